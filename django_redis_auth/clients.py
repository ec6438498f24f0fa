"""Who is calling: the client identity the views hand to the services.

Services never read ``request``; a view turns it into a :class:`Client` once (``client_of``)
and passes that along. The IP comes from ``CLIENT_IP_RESOLVER`` and feeds the per-client
limits; the user agent labels a signed-in device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from .conf import auth_settings

__all__ = ["Client", "client_of", "remote_addr"]

USER_AGENT_MAX = 256


@dataclass(frozen=True, slots=True)
class Client:
    """``ip``: the client address used for per-client limits (``None`` when unknown);
    ``user_agent``: the ``User-Agent`` header, truncated; ``request``: the Django request,
    passed through untouched to ``django.contrib.auth.authenticate`` (authentication
    backends and lockout apps such as django-axes need it), never read by the services."""

    ip: str | None = None
    user_agent: str = ""
    request: Any = field(default=None, repr=False, compare=False)


def remote_addr(request: HttpRequest) -> str | None:
    """``REMOTE_ADDR``: the peer of the connection (right unless a proxy sits in front)."""
    return request.META.get("REMOTE_ADDR") or None


def client_of(request: Any) -> Client:
    """The :class:`Client` of a Django or DRF request."""
    http_request = getattr(request, "_request", request)
    resolver = auth_settings.CLIENT_IP_RESOLVER
    ip = (resolver(http_request) or None) if resolver is not None else None
    user_agent = str(http_request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX]
    return Client(ip=ip, user_agent=user_agent, request=http_request)

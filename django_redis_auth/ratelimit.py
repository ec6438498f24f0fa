"""Client identity for rate caps."""

from __future__ import annotations

from django.http import HttpRequest


def remote_addr(request: HttpRequest) -> str:
    """``REMOTE_ADDR``. Behind a proxy, point ``CLIENT_IP_RESOLVER`` at a function that reads
    the header your proxy sets (and only when the proxy strips client-sent copies)."""
    return request.META.get("REMOTE_ADDR") or "unknown"

"""Who is calling: the client identity the views hand to the services.

Services never read ``request``; a view turns it into a :class:`Client` once (``client_of``)
and passes that along. The IP comes from ``CLIENT_IP_RESOLVER`` and feeds the per-client
limits; the user agent labels a signed-in device.

Behind a reverse proxy every connection comes from the proxy, so ``REMOTE_ADDR`` is the
proxy's address for everyone and one client's limits become everyone's. The proxy says who
it forwarded in ``X-Forwarded-For`` or ``Forwarded`` (RFC 7239) — but a client can send
those headers too, so only the entries the proxies themselves appended can be believed.
:func:`resolve_ip` (the default ``CLIENT_IP_RESOLVER``) therefore trusts exactly
``TRUSTED_PROXIES`` hops (default 0: the headers are ignored) and takes the address the
outermost trusted proxy saw.

:func:`watch` notices the tell-tale of a proxy nobody configured: one private or loopback
address counted for many different accounts. It logs a warning (at most once per
``WARNING_INTERVAL`` per process); it never changes an answer.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from django_redis_auth.conf import auth_settings

__all__ = ["NOBODY", "Client", "client_of", "forwarded_for", "remote_addr", "resolve_ip", "watch"]

logger = logging.getLogger("django_redis_auth")

# The tell-tale: this many different accounts counted for one private address within
# WATCH_WINDOW seconds. Warnings at most once per WARNING_INTERVAL seconds per process.
WATCH_ACCOUNTS = 20
WATCH_WINDOW = 600
WARNING_INTERVAL = 3600
_WATCH_MAX_ADDRESSES = 64  # memory bound: addresses watched at once

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


#: The caller of a service called from Python with no request behind it (defaults).
NOBODY = Client()


def _parse_ip(value: str) -> str | None:
    """The canonical text of one address from a header or ``REMOTE_ADDR``: brackets and a
    port stripped, an IPv4-mapped IPv6 address as IPv4; ``None`` for anything else
    (``unknown``, an obfuscated RFC 7239 identifier, garbage)."""
    text = value.strip().strip('"').strip()
    if text.startswith("["):  # "[2001:db8::1]:4711" or "[2001:db8::1]"
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # "192.0.2.1:4711"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def remote_addr(request: HttpRequest) -> str | None:
    """``REMOTE_ADDR``: the peer of the connection (right unless a proxy sits in front);
    ``None`` when the server gives none (a Unix socket), never a shared placeholder."""
    return _parse_ip(request.META.get("REMOTE_ADDR") or "")


def forwarded_for(request: HttpRequest) -> list[str | None]:
    """The hops a forwarding header lists, client first (``None`` for a hop that is not an
    address). ``FORWARDED_HEADER`` chooses ``X-Forwarded-For`` or RFC 7239 ``Forwarded``;
    repeated headers arrive joined by commas, in order."""
    header = str(auth_settings.FORWARDED_HEADER)
    if header.lower() == "forwarded":
        hops: list[str | None] = []
        for element in request.META.get("HTTP_FORWARDED", "").split(","):
            if not element.strip():
                continue
            found: str | None = None
            for pair in element.split(";"):
                name, _, value = pair.partition("=")
                if name.strip().lower() == "for":
                    found = _parse_ip(value)
            hops.append(found)
        return hops
    meta = "HTTP_" + header.upper().replace("-", "_")
    return [_parse_ip(part) for part in request.META.get(meta, "").split(",") if part.strip()]


def resolve_ip(request: HttpRequest) -> str | None:
    """The client IP: with ``TRUSTED_PROXIES = N`` the address the outermost of the N
    proxies saw (the N-th hop from the right of header + ``REMOTE_ADDR``), else
    ``REMOTE_ADDR``. A request that did not pass through all N proxies (fewer hops than N)
    is taken at its ``REMOTE_ADDR``: its header was written, at least in part, by the
    client. ``None`` when the hop found is not an address (a proxy that says ``unknown``)."""
    trusted = int(auth_settings.TRUSTED_PROXIES)
    peer = remote_addr(request)
    if trusted <= 0:
        ip = peer
    else:
        hops = forwarded_for(request)
        ip = hops[-trusted] if len(hops) >= trusted else peer
    if ip is None:
        _warn_once(
            "unknown",
            "A request's client IP could not be determined; per-IP limits do not count it "
            "(check TRUSTED_PROXIES / FORWARDED_HEADER or CLIENT_IP_RESOLVER).",
        )
    return ip


def client_of(request: Any) -> Client:
    """The :class:`Client` of a Django or DRF request."""
    http_request = getattr(request, "_request", request)
    resolver = auth_settings.CLIENT_IP_RESOLVER
    ip = (resolver(http_request) or None) if resolver is not None else None
    user_agent = str(http_request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX]
    return Client(ip=ip, user_agent=user_agent, request=http_request)


# --- the unconfigured-proxy tell-tale --------------------------------------------------------

_lock = threading.Lock()
_seen: dict[str, tuple[float, set[int]]] = {}
_warned: dict[str, float] = {}


def _is_private(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return address.is_private or address.is_loopback


def watch(client_ip: str, account: str) -> None:
    """Note that a per-IP limit counted ``client_ip`` for ``account`` (a canonical email);
    log a warning when one private or loopback address is counted for ``WATCH_ACCOUNTS``
    different accounts within ``WATCH_WINDOW`` seconds — almost always a reverse proxy
    whose forwarding header is not configured (``TRUSTED_PROXIES``), which makes every
    client share one IP's limits. Per process; neither the address nor accounts are logged."""
    if not _is_private(client_ip):
        return
    now = time.monotonic()
    with _lock:
        since, accounts = _seen.get(client_ip, (now, set()))
        if now - since > WATCH_WINDOW:
            since, accounts = now, set()
        accounts.add(hash(account))
        if len(_seen) >= _WATCH_MAX_ADDRESSES and client_ip not in _seen:
            _seen.pop(next(iter(_seen)))
        _seen[client_ip] = (since, accounts)
        tripped = len(accounts) >= WATCH_ACCOUNTS
        if tripped:
            del _seen[client_ip]
    if tripped:
        _warn_once(
            "proxy",
            "Per-IP limits counted one private or loopback address for %d different accounts "
            "within %d s: if a reverse proxy forwards these requests, set TRUSTED_PROXIES "
            "(and FORWARDED_HEADER), or every client shares that address' limits.",
            WATCH_ACCOUNTS,
            WATCH_WINDOW,
        )


def _warn_once(kind: str, message: str, *args: Any) -> None:
    now = time.monotonic()
    with _lock:
        last = _warned.get(kind)
        if last is not None and now - last < WARNING_INTERVAL:
            return
        _warned[kind] = now
    logger.warning(message, *args)


def reset_watch() -> None:
    """Forget what :func:`watch` saw and when it last warned (tests)."""
    with _lock:
        _seen.clear()
        _warned.clear()

"""Forward-auth for gateways (nginx ``auth_request``, Traefik ForwardAuth, Envoy
``ext_authz`` over HTTP): the gateway asks ``token/verify/`` before each request and passes
it upstream only on a 2xx, with the headers answered here.

The check is the API's own (:class:`~django_redis_auth.authentication.RedisJWTAuthentication`:
signature by ``kid``, expiry, revocation, active user), so a token is refused at the gateway
exactly when the API refuses it: one Redis round trip, no query on a warm user cache.
"""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt import settings as simplejwt_settings

from django_redis_auth.conf import auth_settings

__all__ = ["USER_ID_HEADER", "headers_for"]

USER_ID_HEADER = "X-User-Id"


def _header_value(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        parts = [_header_value(v) for v in value]
        return ",".join(p for p in parts if p is not None)
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A header cannot carry a line break (Django refuses it); a claim never needs one.
    return "".join(ch for ch in text if ch not in "\r\n\x00")


def headers_for(token: Any) -> dict[str, str]:
    """The headers for the gateway: ``X-User-Id`` and each ``FORWARD_AUTH_HEADERS`` header
    whose claim the token has."""
    user_id = token[simplejwt_settings.api_settings.USER_ID_CLAIM]
    headers = {USER_ID_HEADER: _header_value(user_id) or ""}
    for header, claim in auth_settings.FORWARD_AUTH_HEADERS.items():
        value = _header_value(token.get(claim))
        if value is not None:
            headers[header] = value
    return headers

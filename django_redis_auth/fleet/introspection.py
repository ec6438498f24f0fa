"""Token introspection for other services (RFC 7662): is this token live right now?

Signature checks alone cannot see a logout; this can. A live token is one that validates
(signature by ``kid``, expiry, type) *and* passes the revocation check every request of the
API passes (session epoch, family, revoked jti). The answer for anything else — expired,
revoked, rotated, malformed, another issuer's — is ``{"active": false}`` and nothing more,
so a caller learns nothing about tokens that are not live.

Cost: one Redis round trip (the client's rate-limit count and the revocation MGET in one
pipeline), no database query: deactivating or deleting a user revokes its tokens, so the
user row need not be read.

Callers authenticate as a client of ``INTROSPECTION_CLIENTS`` with HTTP Basic. Both the
presented and the configured credentials are hashed and every configured client is
compared (``hmac.compare_digest``), so neither timing nor answers tell an unknown client id
from a wrong secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
from typing import Any
from urllib.parse import unquote_plus

from rest_framework_simplejwt import settings as simplejwt_settings
from rest_framework_simplejwt.exceptions import TokenError

from django_redis_auth import keys, store
from django_redis_auth.conf import auth_settings, on_change
from django_redis_auth.exceptions import InvalidToken, RateLimited, TokenRevoked
from django_redis_auth.fleet.exceptions import IntrospectionNotConfigured, InvalidClient
from django_redis_auth.tokens import claims, revocation, signing

__all__ = ["INACTIVE", "authenticate_client", "introspect", "parse"]

INACTIVE: dict[str, Any] = {"active": False}
TOKEN_TYPES = ("access", "refresh")

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def _configured() -> tuple[tuple[bytes, bytes, str], ...]:
    """The configured clients as (digest of id, digest of secret, id), cached per settings."""
    found = _clients.get("all")
    if found is None:
        with _lock:
            found = _clients["all"] = tuple(
                (_digest(cid), _digest(secret), cid)
                for cid, secret in auth_settings.INTROSPECTION_CLIENTS.items()
            )
    return found


on_change(_clients.clear)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 §2.3.1: both are form-urlencoded before the Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def authenticate_client(authorization: str | None) -> str:
    """The id of the client whose HTTP Basic credentials ``authorization`` carries; 404
    ``introspection_not_configured`` with no clients configured, 401 ``invalid_client``
    for anything else."""
    configured = _configured()
    if not configured:
        raise IntrospectionNotConfigured()
    presented = _basic_credentials(authorization) or ("", "")
    id_digest, secret_digest = _digest(presented[0]), _digest(presented[1])
    matched = None
    for cid_digest, cs_digest, cid in configured:  # every client, whatever matched before
        same_id = hmac.compare_digest(id_digest, cid_digest)
        same_secret = hmac.compare_digest(secret_digest, cs_digest)
        if same_id & same_secret:
            matched = cid
    if matched is None or not presented[1]:
        raise InvalidClient()
    return matched


def parse(raw: str) -> Any | None:
    """The validated token (access or refresh) for ``raw``, or ``None``: no I/O."""
    try:
        token = signing.UntypedToken(raw)
        claims.of(token)
    except (TokenError, InvalidToken, OverflowError, ValueError, OSError, TypeError):
        return None
    token_type = token.get(simplejwt_settings.api_settings.TOKEN_TYPE_CLAIM)
    return token if token_type in TOKEN_TYPES else None


def _charge_and_check(client_id: str, token: Any | None) -> list[Any] | None:
    """One round trip: count the client's request (if limited) and, for a token that
    validated, read its revocation state. Raises 429 over the limit."""
    limit = int(auth_settings.INTROSPECTION_RATE_LIMIT)
    window_ms = int(auth_settings.INTROSPECTION_RATE_WINDOW) * 1000
    request_keys: list[str] = []
    if token is not None:
        request_keys, _ = revocation.check_keys(token)

    def build(pipe: Any) -> None:
        if limit:
            counter = keys.introspection_client(client_id)
            pipe.script("introspection_rate", [counter], [limit, window_ms])
        if request_keys:
            pipe.mget(request_keys)

    if not limit and not request_keys:
        return None
    with store.guard():
        results = store.execute_with_scripts(store.get_client(), build)
    if limit:
        wait_ms = int(results.pop(0))
        if wait_ms > 0:
            raise RateLimited(wait_ms / 1000)
    return results[0] if request_keys else None


def introspect(client_id: str, raw: str) -> dict[str, Any]:
    """RFC 7662's answer for ``raw``: ``{"active": true, ...claims}`` for a live token,
    ``{"active": false}`` for anything else. 429 over the client's rate limit, 503 when
    Redis cannot be reached."""
    token = parse(raw)
    values = _charge_and_check(client_id, token)
    if token is None or values is None:
        return dict(INACTIVE)
    try:
        revocation.verdict(values, revocation.check_keys(token)[1])
    except TokenRevoked:
        return dict(INACTIVE)
    payload = dict(token.payload)
    user_id = payload.get(simplejwt_settings.api_settings.USER_ID_CLAIM)
    answer: dict[str, Any] = {**payload, "active": True}
    answer.setdefault("sub", str(user_id))
    return answer

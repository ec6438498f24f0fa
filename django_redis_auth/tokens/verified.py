"""Access tokens whose signature this process has already checked.

Why: a client sends the same access token with every request of its lifetime (5 minutes by
default, often dozens of requests), and checking it again — base64, HMAC, JSON and claim
checks in PyJWT and simplejwt — costs about as much as the Redis round trip that follows.
What a signature proves about a given string of bytes never changes; only the clock moves.
So a token that passed simplejwt's full validation is remembered by its exact bytes, and a
later use re-checks only its expiry. Revocation is still checked in Redis on every request:
this saves the decode, never the revocation check.

Why it is safe:

* only tokens that passed the full validation are remembered, keyed by their exact bytes,
  signature included: nothing gets in without a valid signature;
* every use re-checks ``exp`` (with simplejwt's ``LEEWAY``); a token within a second of
  expiring goes through the full validation again, so expiry errors are simplejwt's own;
* ``nbf`` and ``iat`` only ever pass once they have passed, so they need no re-check;
* changing ``SIMPLE_JWT``, ``SECRET_KEY`` or ``DJANGO_REDIS_AUTH`` empties the memo (in
  production, settings change by restarting);
* only simplejwt's own checks are replayed: a token class that overrides them or its
  backend, a backend other than simplejwt's own, or keys fetched from a ``JWK_URL`` (which
  can be withdrawn) are never remembered;
* tokens whose claims hold values other than scalars and lists of scalars (``amr``) are
  not remembered; lists are kept as tuples and every use gets its own token object,
  payload dict and lists, so a view cannot change what the next request sees;
* at most ``VERIFIED_TOKEN_MEMO`` tokens per process, of at most 2 KB each (oldest dropped
  first); ``0`` turns the memo off.
"""

from __future__ import annotations

import math
import time

from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from django_redis_auth.conf import auth_settings, on_change
from django_redis_auth.tokens import claims
from django_redis_auth.tokens import validation as token_validation
from django_redis_auth.tokens.memo import BoundedMemo

_SCALARS = (str, int, float, bool, type(None))
# Tokens this close to their end are validated in full, so the expiry error is simplejwt's.
_MARGIN = 1.0
# Real access tokens are a few hundred bytes; a longer header is not worth a memo slot.
_MAX_BYTES = 2048

_memo = BoundedMemo(0)


def recall(raw: bytes | str) -> Token | None:
    """A fresh token object for ``raw`` if it was validated before and is not about to
    expire, else ``None`` (validate it in full)."""
    if not isinstance(raw, bytes | str):
        return None
    entry = _memo.get(raw)
    if entry is None:
        return None
    token_class, payload, lists, accepted_until = entry
    if time.time() >= accepted_until:
        _memo.discard(raw)
        return None
    token = token_class.__new__(token_class)
    token.token = raw
    token.current_time = aware_utcnow()
    token.payload = dict(payload)
    for name in lists:
        token.payload[name] = list(payload[name])
    return token


def remember(raw: bytes | str, token: Token) -> None:
    """Remember ``token``, just validated in full from ``raw``, if it is safe to replay."""
    size = int(auth_settings.VERIFIED_TOKEN_MEMO)
    if size != _memo.max_entries:
        _memo.clear()
        _memo.max_entries = size
    if size <= 0 or not isinstance(raw, bytes | str) or len(raw) > _MAX_BYTES:
        return
    if token_validation.plain_backend(type(token), token) is None:
        return
    payload = dict(token.payload)
    lists = []
    for name, value in payload.items():
        if isinstance(value, list) and all(isinstance(v, _SCALARS) for v in value):
            payload[name] = tuple(value)
            lists.append(name)
        elif not isinstance(value, _SCALARS):
            return
    exp = payload.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float) or not math.isfinite(exp):
        return
    _memo.put(raw, (type(token), payload, tuple(lists), claims.accepted_until(token) - _MARGIN))


def clear() -> None:
    _memo.clear()


on_change(clear)

"""Access tokens whose signature this process has already checked.

Why: a client sends the same access token with every request of its lifetime (5 minutes by
default, often dozens of requests), and checking it again — base64, HMAC, JSON and claim
checks in PyJWT and simplejwt, ~40 µs — costs about as much as the Redis round trip that
follows. What a signature proves about a given string of bytes never changes; only the
clock moves. So a token that passed simplejwt's full validation is remembered by its exact
bytes, and a later use re-checks only its expiry. Revocation is still checked in Redis on
every request: this saves the decode, never the revocation check.

Why it is safe:

* only tokens that passed the full validation are remembered, keyed by their exact bytes,
  signature included: nothing gets in without a valid signature;
* every use re-checks ``exp`` (with simplejwt's ``LEEWAY``); a token within a second of
  expiring goes through the full validation again, so expiry errors are simplejwt's own;
* ``nbf`` and ``iat`` only ever pass once they have passed, so they need no re-check;
* changing ``SIMPLE_JWT``, ``SECRET_KEY`` or ``DJANGO_REDIS_AUTH`` empties the memo (in
  production, settings change by restarting);
* only simplejwt's own checks are replayed: a token class that overrides them, a backend
  other than simplejwt's own (or the key set's, ``signing``), or keys fetched from a
  ``JWK_URL`` (which can be withdrawn) are never remembered;
* tokens whose claims hold values other than scalars and lists of scalars (``amr``) are
  not remembered; every use gets its own token object (a shallow copy of one kept aside,
  ``copy.copy``: whatever simplejwt's constructor set is carried over, nothing is rebuilt
  by hand), its own payload dict and lists, and its own ``current_time``, so a view cannot
  change what the next request sees;
* at most ``VERIFIED_TOKEN_MEMO`` tokens per process, of at most 2 KB each (oldest dropped
  first); ``0`` turns the memo off.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from django_redis_auth.conf import auth_settings, on_change
from django_redis_auth.tokens import claims, signing
from django_redis_auth.tokens.memo import BoundedMemo

__all__ = ["clear", "recall", "remember", "replayable"]

_SCALARS = (str, int, float, bool, type(None))
# Tokens this close to their end are validated in full, so the expiry error is simplejwt's.
_MARGIN = 1.0
# Real access tokens are a few hundred bytes; a longer header is not worth a memo slot.
_MAX_BYTES = 2048
# What building and verifying a token runs: a class overriding any of them has checks of
# its own that a replay would skip, so its tokens are never remembered.
OWN_CHECKS = ("__init__", "verify", "check_exp", "verify_token_type")
# Where a class finds its backend: simplejwt's own accessors, or the key set's (signing).
BACKEND_ACCESSORS = ("token_backend", "get_token_backend")
_PLAIN_BACKENDS = (TokenBackend, signing.KeyedTokenBackend)

_memo = BoundedMemo(0)
_classes: dict[type, bool] = {}


def _own_checks(token_class: type) -> bool:
    found = _classes.get(token_class)
    if found is None:
        found = _classes[token_class] = all(
            getattr(token_class, name) is getattr(Token, name) for name in OWN_CHECKS
        ) and all(
            getattr(token_class, name) in (getattr(Token, name), getattr(signing.KeyedToken, name))
            for name in BACKEND_ACCESSORS
        )
    return found


def replayable(token: Token) -> bool:
    """Whether a later use of ``token`` may skip its validation: simplejwt's own checks,
    verified by simplejwt's own backend (or the key set's) with keys that cannot be
    withdrawn behind our back (no ``JWK_URL``)."""
    if not _own_checks(type(token)):
        return False
    backend = token.get_token_backend()
    return (
        backend is signing.backend()
        and type(backend) in _PLAIN_BACKENDS
        and getattr(backend, "jwks_client", None) is None
    )


def recall(raw: bytes | str) -> Token | None:
    """A fresh token object for ``raw`` if it was validated before and is not about to
    expire, else ``None`` (validate it in full)."""
    entry = _memo.get(raw) if type(raw) in (bytes, str) else None
    if entry is None:
        return None
    kept, payload, lists, accepted_until = entry
    if time.time() >= accepted_until:
        _memo.discard(raw)
        return None
    token = copy.copy(kept)
    token.current_time = aware_utcnow()
    token.payload = fresh = dict(payload)
    for name in lists:
        fresh[name] = list(payload[name])
    return token


def remember(raw: bytes | str, token: Token) -> None:
    """Remember ``token``, just validated in full from ``raw``, if it is safe to replay."""
    size = _size()
    if size <= 0 or type(raw) not in (bytes, str) or len(raw) > _MAX_BYTES:
        return
    if not replayable(token):
        return
    payload: dict[str, Any] = dict(token.payload)
    lists = []
    for name, value in payload.items():
        if type(value) is list:
            if not all(isinstance(v, _SCALARS) for v in value):
                return
            payload[name] = tuple(value)
            lists.append(name)
        elif not isinstance(value, _SCALARS):
            return
    exp = payload.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float) or not math.isfinite(exp):
        return
    until = claims.accepted_until(token) - _MARGIN
    _memo.put(raw, (copy.copy(token), payload, tuple(lists), until))


_state: dict[str, int] = {}


def _size() -> int:
    """``VERIFIED_TOKEN_MEMO``, read once per settings (the memo is emptied on a change)."""
    size = _state.get("size")
    if size is None:
        size = _state["size"] = int(auth_settings.VERIFIED_TOKEN_MEMO)
        _memo.max_entries = size
    return size


def clear() -> None:
    _memo.clear()


def _reset() -> None:
    _state.clear()
    _classes.clear()
    _memo.clear()


on_change(_reset)

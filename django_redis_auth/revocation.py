"""JWT revocation state in Redis: session epochs, session families and revoked tokens.

Why it is as safe as a database blacklist: every token carries its user's *session epoch*
(claim ``epoch``) and a *family* id (claim ``fam``, one per sign-in, shared by every token
that rotation derives from it). A token is accepted only while its user's epoch key holds
the same value *and* its family key holds a live refresh jti. Revoking flips those values;
losing Redis data deletes them; either way the token is refused. Nothing needs a cron: each
record carries the TTL of the newest token that depends on it.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.tokens import Token

from . import claims as claims_module
from . import keys, store, users
from .conf import auth_settings
from .exceptions import AuthUnavailable, InvalidToken, TokenReused, TokenRevoked
from .signals import tokens_revoked

__all__ = [
    "check",
    "open_session",
    "revoke_session",
    "revoke_token",
    "revoke_user",
    "revoke_user_id",
    "rotate",
]

logger = logging.getLogger("django_redis_auth")

# Kept importable from here: callers written against earlier versions use these names.
EPOCH_CLAIM, FAMILY_CLAIM = claims_module.EPOCH_CLAIM, claims_module.FAMILY_CLAIM
claims = claims_module.of
accepted_until = claims_module.accepted_until
user_id_of = users.user_id_of


def _now_ms() -> int:
    return int(time.time() * 1000)


def open_session(user_id: Any, refresh_jti: str, refresh_exp: int) -> tuple[str, str]:
    """Start a session family for a fresh refresh token. Returns ``(epoch, family)``."""
    family = secrets.token_urlsafe(12)
    ttl_ms = max(1, refresh_exp * 1000 - _now_ms())
    with store.guard():
        epoch = store.script("open_session")(
            keys=[keys.epoch(user_id), keys.family(user_id, family)],
            args=[secrets.token_urlsafe(12), ttl_ms, refresh_jti],
        )
    return store.decode(epoch), family


def check(token: Token) -> bytes | None:
    """The per-request check: one MGET over the user's keys (one slot).

    Raises :class:`TokenRevoked` if the session epoch is missing or changed, the family is
    revoked or gone, or the token itself was revoked. Returns the raw cached user entry
    (``None`` on a cache miss) so the caller needs no second round trip.
    """
    user_id, epoch, family, jti = claims(token)
    with store.guard():
        current_epoch, fam, revoked, cached_user = store.get_client().mget(
            keys.request_keys(user_id, family, jti)
        )
    if (
        current_epoch is None
        or store.decode(current_epoch) != epoch
        or fam is None
        or store.decode(fam) == keys.REVOKED
        or revoked is not None
    ):
        raise TokenRevoked()
    return cached_user


def rotate(token: Token, new_jti: str, new_exp: int) -> None:
    """Make ``new_jti`` the only live refresh token of ``token``'s family, atomically.

    Presenting a refresh token that was already rotated revokes the whole family (reuse
    detection) and raises :class:`TokenReused`; of two concurrent rotations with the same
    token at most one succeeds.
    """
    user_id, epoch, family, jti = claims(token)
    ttl_ms = max(1, new_exp * 1000 - _now_ms())
    with store.guard():
        outcome = store.script("rotate_refresh")(
            keys=[
                keys.epoch(user_id),
                keys.family(user_id, family),
                keys.revoked_jti(user_id, jti),
            ],
            args=[epoch, jti, new_jti, ttl_ms, keys.REVOKED],
        )
    outcome = store.decode(outcome)
    if outcome == "reused":
        tokens_revoked.send(__name__, user_id=user_id, scope="session", reason="refresh_reuse")
        raise TokenReused()
    if outcome != "ok":
        raise TokenRevoked()


def _write(build: Callable[[Any], None]) -> None:
    """Run revocation writes in one round trip on one connection, then, when
    ``REPLICA_ACKS`` asks for it, ``WAIT`` for that many replicas in the same round trip.

    A revocation that only the master saw would come back to life if a replica that missed it
    were promoted; answering 503 instead tells the client its logout did not stick.
    """
    acks = int(auth_settings.REPLICA_ACKS)
    with store.guard():
        client = store.get_client()
        # Not MULTI: each write is correct on its own, and WAIT must follow on the same
        # connection (WAIT inside MULTI does not wait).
        pipe = client.pipeline(transaction=False)
        build(pipe)
        if acks:
            pipe.wait(acks, int(auth_settings.REPLICA_ACK_TIMEOUT))
        results = pipe.execute()
    if acks and int(results[-1]) < acks:
        logger.error("Revocation acknowledged by %s of %s replicas", results[-1], acks)
        raise AuthUnavailable()


def revoke_token(token: Token, *, reason: str = "api") -> None:
    """Revoke one token (access or refresh) until its own expiry (plus simplejwt's
    ``LEEWAY``, during which it would still be accepted)."""
    c = claims(token)
    until = math.ceil(accepted_until(token))
    if until * 1000 > _now_ms():
        _write(lambda pipe: pipe.set(keys.revoked_jti(c.user_id, c.jti), 1, exat=until))
    tokens_revoked.send(__name__, user_id=c.user_id, scope="token", reason=reason)


def revoke_session(*tokens: Token, reason: str = "logout") -> None:
    """Revoke each token and its whole family (every token rotation derived from the same
    sign-in), in one round trip. All tokens must belong to one user."""
    if not tokens:
        return
    found = [claims(t) for t in tokens]
    if len({str(c.user_id) for c in found}) != 1:
        raise InvalidToken(_("Tokens belong to different users."))
    user_id = found[0].user_id
    now_ms = _now_ms()

    def build(pipe: Any) -> None:
        for token, c in zip(tokens, found, strict=True):
            # KEEPTTL: the revoked family dies exactly when its newest token would have.
            pipe.set(keys.family(user_id, c.family), keys.REVOKED, xx=True, keepttl=True)
            until = math.ceil(accepted_until(token))
            if until * 1000 > now_ms:
                pipe.set(keys.revoked_jti(user_id, c.jti), 1, exat=until)

    _write(build)
    tokens_revoked.send(__name__, user_id=user_id, scope="session", reason=reason)


def revoke_user(user: Any, *, reason: str = "logout_all") -> None:
    """Revoke every token of ``user`` issued up to now, on every device.

    A new epoch replaces the old one (keeping its TTL, which already covers the user's newest
    token). If there is no epoch there is no live token, so nothing is written.
    """
    revoke_user_id(user_id_of(user), reason=reason)


def revoke_user_id(user_id: Any, *, reason: str = "logout_all") -> None:
    new_epoch = secrets.token_urlsafe(12)
    _write(lambda pipe: pipe.set(keys.epoch(user_id), new_epoch, xx=True, keepttl=True))
    tokens_revoked.send(__name__, user_id=user_id, scope="user", reason=reason)

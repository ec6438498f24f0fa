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
from typing import Any, NamedTuple

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.tokens import Token

from django_redis_auth import keys, store
from django_redis_auth.accounts import users
from django_redis_auth.clients import Client
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import AuthUnavailable, InvalidToken, TokenReused, TokenRevoked
from django_redis_auth.signals import tokens_revoked
from django_redis_auth.tokens import claims, families

__all__ = [
    "Opened",
    "check",
    "open_session",
    "open_session_for",
    "revoke_families",
    "revoke_family",
    "revoke_session",
    "revoke_token",
    "revoke_user",
    "revoke_user_id",
    "rotate",
]

logger = logging.getLogger("django_redis_auth")

user_id_of = users.user_id_of


def _now_ms() -> int:
    return int(time.time() * 1000)


class Opened(NamedTuple):
    """What opening a session did: its epoch and family, whether the device is new to the
    account (a notice is due), and the families ``MAX_SESSIONS_PER_USER`` ended for it."""

    epoch: str
    family: str
    new_device: bool
    ended: tuple[str, ...]


def open_session(
    user_id: Any, refresh_jti: str, refresh_exp: int, client: Client | None = None
) -> tuple[str, str]:
    """Start a session family for a fresh refresh token, recording the device ``client``
    describes (families.py) and listing it in the user's session index. Returns
    ``(epoch, family)`` (:func:`open_session_for` says more)."""
    opened = open_session_for(user_id, refresh_jti, refresh_exp, client)
    return opened.epoch, opened.family


def open_session_for(
    user_id: Any,
    refresh_jti: str,
    refresh_exp: int,
    client: Client | None = None,
    *,
    method: str = "",
    now_ms: int | None = None,
) -> Opened:
    """:func:`open_session`, in the same script call: the ``sign_in`` activity entry
    (``method``: how), the ``MAX_SESSIONS_PER_USER`` cap (ending the least recently used
    sessions, recorded too) and the known-devices check of the new-device notice.
    ``now_ms``: the instant the refresh token was minted at (its ``exp`` counts from it),
    so the session's place in the cap's order cannot fall a second behind its token."""
    from django_redis_auth import activity

    family = secrets.token_urlsafe(12)
    now_ms = _now_ms() if now_ms is None else now_ms
    ttl_ms = max(1, refresh_exp * 1000 - now_ms)
    _kind, _method, ip, agent, _session = activity.fields("", client)
    with store.guard():
        answer = store.script("open_session")(
            keys=[
                keys.epoch(user_id),
                keys.family(user_id, family),
                keys.session_index(user_id),
                keys.activity(user_id),
                keys.known_devices(user_id),
            ],
            args=[
                secrets.token_urlsafe(12),
                ttl_ms,
                families.record(refresh_jti, now_ms, client),
                family,
                now_ms,
                int(auth_settings.MAX_SESSIONS_PER_USER),
                *activity.args(now_ms)[1:],
                activity.device_fingerprint(client),
                _KNOWN_DEVICES_MAX,
                method,
                ip,
                agent,
            ],
        )
    ended = tuple(store.decode(f) or "" for f in answer[2:])
    activity.announce(user_id, [activity.SIGN_IN, method, ip, agent, family], now_ms)
    for gone in ended:
        activity.announce(user_id, [activity.SESSION_ENDED, "capped", "", "", gone], now_ms)
    if ended:
        tokens_revoked.send(__name__, user_id=user_id, scope="session", reason="capped")
    return Opened(store.decode(answer[0]) or "", family, bool(int(answer[1])), ended)


# Devices remembered per user for the new-device notice (the least recently seen go).
_KNOWN_DEVICES_MAX = 50


def check(token: Token) -> bytes | None:
    """The per-request check: one MGET over the user's keys (one slot).

    Raises :class:`TokenRevoked` if the session epoch is missing or changed, the family is
    revoked or gone, or the token itself was revoked. Returns the raw cached user entry
    (``None`` on a cache miss) so the caller needs no second round trip.
    """
    request_keys, epoch = check_keys(token)
    with store.guard():
        values = store.get_client().mget(request_keys)
    return verdict(values, epoch)


def check_keys(token: Token) -> tuple[list[str], str]:
    """The keys :func:`check` reads for ``token`` and the epoch it must find (shared with
    the async path, which makes the same MGET on ``redis.asyncio``)."""
    user_id, epoch, family, jti = claims.of(token)
    return keys.request_keys(user_id, family, jti), epoch


def verdict(values: list[Any], epoch: str) -> bytes | None:
    """What :func:`check` concludes from the MGET's replies: raises :class:`TokenRevoked`,
    or returns the raw cached user entry."""
    current_epoch, fam, revoked, cached_user = values
    if (
        current_epoch is None
        or store.decode(current_epoch) != epoch
        or fam is None
        or store.decode(fam) == keys.REVOKED
        or revoked is not None
    ):
        raise TokenRevoked()
    return cached_user


def rotate(
    token: Token,
    new_jti: str,
    new_exp: int,
    *,
    now_ms: int | None = None,
) -> int:
    """Make ``new_jti`` the only live refresh token of ``token``'s family, atomically, and
    note the refresh in the family record (which keeps the IP and user agent of the device
    that signed in).
    Returns when (ms) the successor was minted: ``now_ms``, or, for a repeated refresh of
    the live token's immediate predecessor within ``REFRESH_REUSE_INTERVAL``, the time of
    the rotation that minted it (the caller then mints that same pair again).

    Presenting any other already-rotated refresh token revokes the whole family (reuse
    detection) and raises :class:`TokenReused`; of concurrent rotations with the same token
    at most one rotates (the others replay it inside the interval, or are reuse).
    """
    c = claims.of(token)
    now_ms = _now_ms() if now_ms is None else now_ms
    ttl_ms = max(1, new_exp * 1000 - now_ms)
    interval_ms = int(float(auth_settings.REFRESH_REUSE_INTERVAL) * 1000)
    with store.guard():
        outcome, minted = store.script("rotate_refresh")(
            keys=[
                keys.epoch(c.user_id),
                keys.family(c.user_id, c.family),
                keys.revoked_jti(c.user_id, c.jti),
                keys.session_index(c.user_id),
            ],
            args=[
                c.epoch,
                families.jti_digest(c.jti),
                c.jti,
                families.jti_digest(new_jti),
                ttl_ms,
                keys.REVOKED,
                now_ms,
                interval_ms,
                families.base36(now_ms),
                c.family,
            ],
        )
    outcome = store.decode(outcome)
    if outcome == "ok":
        return now_ms
    if outcome == "replay":
        return int(minted)
    if outcome == "reused":
        tokens_revoked.send(__name__, user_id=c.user_id, scope="session", reason="refresh_reuse")
        _record_now(c.user_id, "refresh_reuse", session=c.family)
        raise TokenReused()
    raise TokenRevoked()


def _write(build: Callable[[store.ScriptPipeline], None]) -> list[Any]:
    """Run revocation writes in one round trip on one connection, then, when
    ``REPLICA_ACKS`` asks for it, ``WAIT`` for that many replicas in the same round trip.

    A revocation that only the master saw would come back to life if a replica that missed it
    were promoted; answering 503 instead tells the client its logout did not stick.
    """
    acks = int(auth_settings.REPLICA_ACKS)
    with store.guard():
        client = store.get_client()
        # Not MULTI: each write is correct on its own, and WAIT must follow on the same
        # connection (WAIT inside MULTI does not wait). Writes that must not half-happen
        # (at maxmemory, say) are one script (``pipe.script``).

        def build_and_wait(pipe: store.ScriptPipeline) -> None:
            build(pipe)
            if acks:
                pipe.wait(acks, int(auth_settings.REPLICA_ACK_TIMEOUT))

        results = store.execute_with_scripts(client, build_and_wait)
    if acks and int(results[-1]) < acks:
        logger.error("Revocation acknowledged by %s of %s replicas", results[-1], acks)
        raise AuthUnavailable()
    return results


def _record(pipe: store.ScriptPipeline, user_id: Any, reason: str, *, session: str = "") -> None:
    """The activity entry of a revocation, in the revocation's own round trip."""
    from django_redis_auth import activity

    event = activity.REVOCATION_EVENTS.get(reason)
    if event is not None:
        activity.record(user_id, event[0], method=event[1], session=session, pipe=pipe)


def _record_now(user_id: Any, reason: str, *, session: str = "") -> None:
    """The same, on its own round trip (reuse is found inside the rotation script, whose
    answer comes first). Best effort: the reuse is refused either way."""
    from django_redis_auth import activity

    kind, method = activity.REVOCATION_EVENTS[reason]
    try:
        activity.record(user_id, kind, method=method, session=session)
    except AuthUnavailable:
        logger.warning("Could not record refresh-token reuse in the activity list")


def revoke_token(token: Token, *, reason: str = "api") -> None:
    """Revoke one token (access or refresh) until its own expiry (plus simplejwt's
    ``LEEWAY``, during which it would still be accepted)."""
    c = claims.of(token)
    until = math.ceil(claims.accepted_until(token))
    if until * 1000 > _now_ms():
        _write(lambda pipe: pipe.set(keys.revoked_jti(c.user_id, c.jti), 1, exat=until))
    tokens_revoked.send(__name__, user_id=c.user_id, scope="token", reason=reason)


def revoke_session(*tokens: Token, reason: str = "logout") -> None:
    """Revoke each token and its whole family (every token rotation derived from the same
    sign-in), in one round trip. All tokens must belong to one user."""
    if not tokens:
        return
    found = [claims.of(t) for t in tokens]
    if len({str(c.user_id) for c in found}) != 1:
        raise InvalidToken(_("Tokens belong to different users."))
    user_id = found[0].user_id
    now_ms = _now_ms()

    def build(pipe: store.ScriptPipeline) -> None:
        for token, c in zip(tokens, found, strict=True):
            # KEEPTTL: the revoked family dies exactly when its newest token would have.
            pipe.set(keys.family(user_id, c.family), keys.REVOKED, xx=True, keepttl=True)
            until = math.ceil(claims.accepted_until(token))
            if until * 1000 > now_ms:
                pipe.set(keys.revoked_jti(user_id, c.jti), 1, exat=until)
        for family in dict.fromkeys(c.family for c in found):
            _record(pipe, user_id, reason, session=family)

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

    def build(pipe: store.ScriptPipeline) -> None:
        # Every family the index lists belonged to the old epoch: the device list starts
        # empty.
        pipe.script(
            "revoke_user",
            [keys.epoch(user_id), keys.session_index(user_id), keys.trusted_devices(user_id)],
            [new_epoch],
        )
        _record(pipe, user_id, reason)

    _write(build)
    tokens_revoked.send(__name__, user_id=user_id, scope="user", reason=reason)


def revoke_family(user_id: Any, family: str, *, reason: str = "api") -> bool:
    """Revoke one session family by id (a device signed out from the device list): every
    access and refresh token of it is refused from the next request on. Returns whether a
    live family was revoked. One round trip."""
    return bool(revoke_families(user_id, [family], reason=reason))


def revoke_families(user_id: Any, family_ids: list[str], *, reason: str = "api") -> list[str]:
    """Revoke several session families of one user in one round trip; returns the ids of
    those that were live."""
    if not family_ids:
        return []

    def build(pipe: store.ScriptPipeline) -> None:
        pipe.script(
            "revoke_families",
            [keys.session_index(user_id), *(keys.family(user_id, f) for f in family_ids)],
            [keys.REVOKED, *family_ids],
        )
        for family in family_ids:
            _record(pipe, user_id, reason, session=family)

    results = _write(build)
    revoked = [
        family
        for family, previous in zip(family_ids, results[0], strict=False)
        if previous is not None and store.decode(previous) != keys.REVOKED
    ]
    if revoked:
        tokens_revoked.send(__name__, user_id=user_id, scope="session", reason=reason)
    return revoked

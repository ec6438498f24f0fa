"""Issuing, rotating and ending token pairs: simplejwt tokens plus our two claims.

This is the one place tokens are minted, so every token is registered with the revocation
state (see ``revocation``) before it leaves the server.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from django_redis_auth import notices
from django_redis_auth.accounts import users, users_cache
from django_redis_auth.clients import Client
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import InvalidToken, RefreshTokenInvalid, TokenRevoked
from django_redis_auth.tokens import claims, families, revocation
from django_redis_auth.tokens.signing import RefreshToken  # signed and verified by kid

__all__ = ["TokenPair", "issue_token_pair", "logout", "parse_refresh", "rotate_refresh_token"]

# Claims a rotated refresh token does not inherit from its predecessor.
_FRESH_CLAIMS = frozenset(
    {"exp", "iat", "jti", jwt_settings.JTI_CLAIM, jwt_settings.TOKEN_TYPE_CLAIM}
)


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _pair(refresh: RefreshToken) -> TokenPair:
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def issue_token_pair(
    user: Any,
    client: Client | None = None,
    *,
    amr: Iterable[str] = (claims.Amr.PASSWORD,),
    auth_time: int | None = None,
    method: str | None = None,
) -> TokenPair:
    """A new access/refresh pair for a user who just proved who they are: a new session
    family (a new "device"). ``client`` describes the device that signed in; ``amr`` how the
    user proved it (RFC 8176 values, :class:`.claims.Amr`) and ``auth_time`` when (default:
    now). Both claims are copied to every token the session refreshes into, so a permission
    can ask how long ago, and how, the person behind a token last showed up. ``method``
    names the sign-in in the activity list (default: the ``amr`` values joined by ``+``).

    Sends Django's ``user_logged_in`` (so apps listening to it see API sign-ins; Django's
    own receiver then updates ``last_login``), and mails the new-device notice when the
    account has not seen this device (``NEW_DEVICE_NOTICE``)."""
    refresh = RefreshToken.for_user(user)
    # One clock for the token and its session: ``exp`` counts from ``current_time``.
    minted_ms = _epoch_ms(refresh.current_time)
    refresh[claims.AUTH_TIME_CLAIM] = minted_ms // 1000 if auth_time is None else int(auth_time)
    amr_values = list(dict.fromkeys(amr))
    refresh[claims.AMR_CLAIM] = amr_values
    opened = revocation.open_session_for(
        users.user_id_of(user),
        str(refresh[jwt_settings.JTI_CLAIM]),
        int(refresh["exp"]),
        client,
        method=method or "+".join(amr_values),
        now_ms=minted_ms,
    )
    refresh[claims.EPOCH_CLAIM] = opened.epoch
    refresh[claims.FAMILY_CLAIM] = opened.family
    # django.contrib.auth's own receiver of this signal updates ``last_login`` (as its
    # login() does), whatever SIMPLE_JWT's UPDATE_LAST_LOGIN says.
    user_logged_in.send(sender=type(user), request=getattr(client, "request", None), user=user)
    if opened.new_device and auth_settings.NEW_DEVICE_NOTICE:
        notices.new_device(user, client)
    return _pair(refresh)


def _epoch_ms(moment: datetime) -> int:
    """Unix ms of a simplejwt time: aware, or naive UTC where ``USE_TZ`` is off."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def parse_refresh(raw: str) -> RefreshToken:
    """A valid refresh token of ours, or 401 ``token_not_valid``."""
    try:
        token = RefreshToken(raw)
    except (TokenError, OverflowError, ValueError, OSError) as exc:
        # OverflowError & co.: a validly signed exp beyond datetime's range (see
        # authentication.py).
        raise InvalidToken() from exc
    claims.of(token)
    return token


def rotate_refresh_token(raw: str, client: Client | None = None) -> TokenPair:
    """Exchange a refresh token for a new pair; the presented token dies (rotation) and
    presenting it again revokes its whole family (reuse detection) — except, within
    ``REFRESH_REUSE_INTERVAL``, for the immediate predecessor of the family's live token,
    which gets that same pair again. ``client`` (the refreshing device) is not recorded: the
    device list keeps the IP and user agent of the device that signed in."""
    old = parse_refresh(raw)
    user = users_cache.get_user(claims.user_id_in(old))
    if user is None or not users.is_active(user):
        raise TokenRevoked()
    jti = families.successor_jti(claims.of(old).jti)
    now_ms = int(time.time() * 1000)
    new = _successor(old, jti, now_ms)
    minted = revocation.rotate(old, jti, int(new["exp"]), now_ms=now_ms)
    if minted != now_ms:
        new = _successor(old, jti, minted)
    access = new.access_token
    access.set_iat(at_time=new.current_time)
    access[jwt_settings.JTI_CLAIM] = families.access_jti(jti)
    return TokenPair(access=str(access), refresh=str(new))


def _successor(old: RefreshToken, jti: str, minted_ms: int) -> RefreshToken:
    """The refresh token that rotating ``old`` mints at ``minted_ms``: every claim is fixed
    by ``old``, ``jti`` and that time, so minting it again gives the same token."""
    new = RefreshToken()
    new.current_time = datetime.fromtimestamp(minted_ms / 1000, tz=UTC)
    new.set_exp(from_time=new.current_time)
    new.set_iat(at_time=new.current_time)
    new[jwt_settings.JTI_CLAIM] = jti
    for claim, value in old.payload.items():
        if claim not in _FRESH_CLAIMS:
            new[claim] = value
    return new


def logout(access: Token, refresh: str | None = None) -> None:
    """End the session of ``access`` (its family), and of ``refresh`` if given: both must
    belong to the same user. A refresh token that is invalid or someone else's is a 400
    ``token_not_valid`` and nothing is revoked."""
    to_revoke: list[Token] = [access]
    if refresh:
        try:
            token = parse_refresh(refresh)
        except exceptions.AuthenticationFailed:
            raise RefreshTokenInvalid() from None
        if str(claims.user_id_in(token)) != str(claims.user_id_in(access)):
            raise RefreshTokenInvalid(_("Refresh token belongs to another user."))
        to_revoke.append(token)
    revocation.revoke_session(*to_revoke, reason="logout")

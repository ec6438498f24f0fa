"""Issuing, rotating and ending token pairs: simplejwt tokens plus our two claims.

This is the one place tokens are minted, so every token is registered with the revocation
state (see ``revocation``) before it leaves the server.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth.models import update_last_login
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken, Token

from . import claims, revocation, users, users_cache
from .clients import Client
from .exceptions import InvalidToken, TokenRevoked

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


def issue_token_pair(user: Any, client: Client | None = None) -> TokenPair:
    """A new access/refresh pair for a user who just proved who they are: a new session
    family (a new "device"). ``client`` describes the device that signed in."""
    refresh = RefreshToken.for_user(user)
    epoch, family = revocation.open_session(
        users.user_id_of(user), str(refresh[jwt_settings.JTI_CLAIM]), int(refresh["exp"])
    )
    refresh[claims.EPOCH_CLAIM] = epoch
    refresh[claims.FAMILY_CLAIM] = family
    if jwt_settings.UPDATE_LAST_LOGIN:
        update_last_login(None, user)
    return _pair(refresh)


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


def rotate_refresh_token(raw: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the presented token dies (rotation) and
    presenting it again revokes its whole family (reuse detection)."""
    old = parse_refresh(raw)
    user = users_cache.get_user(claims.user_id_in(old))
    if user is None or not users.is_active(user):
        raise TokenRevoked()
    new = RefreshToken()
    for claim, value in old.payload.items():
        if claim not in _FRESH_CLAIMS:
            new[claim] = value
    revocation.rotate(old, str(new[jwt_settings.JTI_CLAIM]), int(new["exp"]))
    return _pair(new)


def logout(access: Token, refresh: str | None = None) -> None:
    """End the session of ``access`` (its family), and of ``refresh`` if given: both must
    belong to the same user. A refresh token that is invalid or someone else's is a 400
    ``token_not_valid`` and nothing is revoked."""
    to_revoke: list[Token] = [access]
    if refresh:
        try:
            token = parse_refresh(refresh)
        except exceptions.AuthenticationFailed:
            raise exceptions.ValidationError(
                _("Refresh token is invalid or expired."), code="token_not_valid"
            ) from None
        if str(claims.user_id_in(token)) != str(claims.user_id_in(access)):
            raise exceptions.ValidationError(
                _("Refresh token belongs to another user."), code="token_not_valid"
            )
        to_revoke.append(token)
    revocation.revoke_session(*to_revoke, reason="logout")

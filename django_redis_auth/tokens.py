"""Issuing and rotating token pairs: simplejwt tokens plus our two claims.

This is the one place tokens are minted, so every token is registered with the revocation
state (see ``revocation``) before it leaves the server.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth.models import update_last_login
from django.http import HttpRequest
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from . import revocation, users_cache
from .exceptions import InvalidToken, TokenRevoked
from .revocation import EPOCH_CLAIM, FAMILY_CLAIM

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


def issue_token_pair(user: Any, request: HttpRequest | None = None) -> TokenPair:
    """A new access/refresh pair for a user who just proved who they are (a new session
    family). ``request`` is accepted for subclasses and signal receivers that want it."""
    refresh = RefreshToken.for_user(user)
    epoch, family = revocation.open_session(
        revocation.user_id_of(user), str(refresh[jwt_settings.JTI_CLAIM]), int(refresh["exp"])
    )
    refresh[EPOCH_CLAIM] = epoch
    refresh[FAMILY_CLAIM] = family
    if jwt_settings.UPDATE_LAST_LOGIN:
        update_last_login(None, user)
    return _pair(refresh)


def parse_refresh(raw: str) -> RefreshToken:
    try:
        token = RefreshToken(raw)
    except (TokenError, OverflowError, ValueError, OSError) as exc:
        # OverflowError & co.: a validly signed exp beyond datetime's range (see
        # authentication.py).
        raise InvalidToken() from exc
    revocation.claims(token)
    return token


def rotate_refresh_token(raw: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the presented token dies (rotation) and
    presenting it again revokes its whole family (reuse detection)."""
    old = parse_refresh(raw)
    user = users_cache.get_user(old[jwt_settings.USER_ID_CLAIM])
    if user is None or not getattr(user, "is_active", True):
        raise TokenRevoked()
    new = RefreshToken()
    for claim, value in old.payload.items():
        if claim not in _FRESH_CLAIMS:
            new[claim] = value
    revocation.rotate(old, str(new[jwt_settings.JTI_CLAIM]), int(new["exp"]))
    return _pair(new)

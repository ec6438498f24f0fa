"""The claims this package adds to simplejwt's tokens, and reading them back.

Every token carries its user's session *epoch* and its session *family* (see revocation.py
for why both). Token classes are simplejwt's; this module only names and reads the claims.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from django_redis_auth.exceptions import InvalidToken

__all__ = [
    "AMR_CLAIM",
    "AUTH_TIME_CLAIM",
    "EPOCH_CLAIM",
    "FAMILY_CLAIM",
    "Amr",
    "Claims",
    "accepted_until",
    "amr_of",
    "auth_time_of",
    "of",
]

EPOCH_CLAIM = "epoch"
FAMILY_CLAIM = "fam"
# OpenID Connect's names: when the user last proved who they are (epoch seconds) and how
# (RFC 8176 values). Set when a session opens, copied to every refreshed token.
AUTH_TIME_CLAIM = "auth_time"
AMR_CLAIM = "amr"


class Amr:
    """RFC 8176 authentication method references, plus ``google`` (a federated sign-in)."""

    PASSWORD = "pwd"
    OTP = "otp"  # a one-time code: authenticator app, recovery code, emailed code
    HARDWARE_KEY = "hwk"  # a passkey bound to its device
    SOFTWARE_KEY = "swk"  # a synced passkey
    USER_PRESENCE = "user"  # user verification on the authenticator (PIN, biometrics)
    MULTI_FACTOR = "mfa"  # two factors passed
    GOOGLE = "google"


class Claims(NamedTuple):
    user_id: Any
    epoch: str
    family: str
    jti: str


def of(token: Token) -> Claims:
    """The revocation-relevant claims of one of our tokens; 401 if it is not one."""
    try:
        return Claims(
            token[jwt_settings.USER_ID_CLAIM],
            str(token[EPOCH_CLAIM]),
            str(token[FAMILY_CLAIM]),
            str(token[jwt_settings.JTI_CLAIM]),
        )
    except KeyError:
        raise InvalidToken(_("Token was not issued by this service.")) from None


def user_id_in(token: Token) -> Any:
    return token[jwt_settings.USER_ID_CLAIM]


def accepted_until(token: Token) -> float:
    """When (epoch seconds) simplejwt stops accepting ``token``: its ``exp`` plus the leeway
    of the backend that validates it (``SIMPLE_JWT["LEEWAY"]``). A revocation record must
    live at least that long, and a remembered signature check no longer."""
    return float(token["exp"]) + token.get_token_backend().get_leeway().total_seconds()


def auth_time_of(token: Token) -> int | None:
    """When the token's session last proved who its user is; ``None`` for a token minted
    before this claim existed."""
    value = token.get(AUTH_TIME_CLAIM)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def amr_of(token: Token) -> tuple[str, ...]:
    value = token.get(AMR_CLAIM)
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value)

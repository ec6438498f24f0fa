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

__all__ = ["EPOCH_CLAIM", "FAMILY_CLAIM", "Claims", "accepted_until", "of"]

EPOCH_CLAIM = "epoch"
FAMILY_CLAIM = "fam"


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

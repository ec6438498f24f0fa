"""A token's first request: simplejwt's validation, through simplejwt's public API only.

What simplejwt's ``JWTAuthentication.get_validated_token`` does — build each class of
``SIMPLE_JWT["AUTH_TOKEN_CLASSES"]`` from the raw token in turn (its documented constructor:
PyJWT's ``jwt.decode`` through the class's ``TokenBackend``, then the class's own
``verify()``), return the first that validates, else raise simplejwt's ``InvalidToken``
with simplejwt's messages — with one difference: each class verifies with
:func:`signing.backend` (``signing.keyed``), so tokens carrying the ``kid`` of a rotated
key (``JWT_VERIFYING_KEYS``) keep verifying with simplejwt's default classes. With HMAC
that backend *is* simplejwt's own.

Why not simplejwt's method itself: it would verify with simplejwt's single-key backend.
Why not anything faster: an earlier version built token objects around simplejwt's private
attributes to skip its per-token look-ups; that saved ~1 µs of a ~40 µs first request
(``benchmarks/profile_auth.py``) and could break on any simplejwt release. Signatures are
only ever checked by PyJWT. ``tests/test_token_validation.py`` runs simplejwt's own
token-validation cases (and PyJWT's claim cases) through simplejwt's method and through
:func:`validate` and compares the outcomes.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication as simplejwt_authentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import Token

from django_redis_auth import exceptions
from django_redis_auth.tokens import signing

__all__ = ["token_classes", "validate"]

_classes: list[Any] = [None, ()]  # [the configured list, its keyed classes]


def token_classes() -> tuple[type[Token], ...]:
    """``AUTH_TOKEN_CLASSES``, each verifying with the key set (see ``signing.keyed``).
    Read where simplejwt's ``JWTAuthentication`` reads it (that module keeps the settings
    object it imported), so both see the same classes."""
    configured = simplejwt_authentication.api_settings.AUTH_TOKEN_CLASSES
    cached, classes = _classes
    if configured is not cached:  # settings changed (tests), or the first call
        classes = tuple(signing.keyed(token_class) for token_class in configured)
        _classes[:] = [configured, classes]
    return classes


def validate(raw: bytes | str) -> Token:
    """The validated token for ``raw``, as simplejwt's ``get_validated_token`` would
    return it (an instance of the first configured class that accepts it); simplejwt's
    ``InvalidToken`` (401 ``token_not_valid``, with simplejwt's messages) otherwise."""
    messages = []
    for token_class in token_classes():
        try:
            return token_class(raw)
        except TokenError as exc:
            messages.append(
                {
                    "token_class": token_class.__name__,
                    "token_type": token_class.token_type,
                    "message": exc.args[0],
                }
            )
        except (OverflowError, ValueError, OSError) as exc:
            # simplejwt turns exp into a datetime: a validly signed exp of 1e308 (or past
            # year 9999) overflows there instead of raising its TokenError.
            raise exceptions.InvalidToken() from exc
    raise InvalidToken(
        {"detail": _("Given token not valid for any token type"), "messages": messages}
    )

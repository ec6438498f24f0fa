"""The registry of every error code the package answers with (:data:`ERROR_CODES`).

The OpenAPI schema and docs/api.md are checked against it, and the handler never emits a
validation code that is not in it. Codes come from the ``DESCRIPTIONS`` of ``MODULES``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from rest_framework import exceptions, status

from django_redis_auth.exceptions.base import (
    AuthUnavailable,
    BadAuthorizationHeader,
    InvalidToken,
    TokenRevoked,
    UserInactive,
    UserNotFound,
)

#: Modules whose ``DESCRIPTIONS`` list their error classes (a capability adds its own).
MODULES = (
    "django_redis_auth.exceptions.base",
    "django_redis_auth.exceptions.google",
    "django_redis_auth.mfa.exceptions",
    "django_redis_auth.fleet.exceptions",
    "django_redis_auth.permissions",
)


def _descriptions() -> dict[type[exceptions.APIException], str]:
    merged: dict[type[exceptions.APIException], str] = {}
    for name in MODULES:
        merged.update(importlib.import_module(name).DESCRIPTIONS)
    return merged


@dataclass(frozen=True)
class ErrorCode:
    """One entry of the registry: a stable ``code``, the HTTP ``status`` it comes with, and
    what it means for a client."""

    code: str
    status: int
    description: str


def _entry(exc: type[exceptions.APIException], description: str) -> ErrorCode:
    return ErrorCode(str(exc.default_code), int(exc.status_code), description)


#: Codes the handler gives a 400 validation error, by the field error it found first. Any
#: other field error code (a project serializer's own, a DRF code not listed here) is
#: reported as ``invalid_input`` (``invalid_email`` on an email field), so this list is
#: closed; the field messages are in ``errors`` either way.
VALIDATION_CODES: dict[str, str] = {
    "invalid_input": "The body is not a JSON object, or a field has the wrong type or value.",
    "invalid_email": "The email field is not a valid email address.",
    "email_not_allowed": "An address of a kind this site refuses (a non-ASCII local part "
    "without `ALLOW_UNICODE_LOCAL_PART`, an IP-literal domain).",
    "required": "A required field is missing.",
    "null": "A field is null.",
    "blank": "A field is an empty string.",
    "max_length": "A field is longer than its maximum length.",
    "invalid_choice": "A field is not one of the allowed values (e.g. an unknown `purpose`).",
    "malformed_request": "The body is not valid JSON (or is nested too deeply).",
    "request_too_large": "The body is larger than `DATA_UPLOAD_MAX_MEMORY_SIZE`.",
}


#: Errors every view behind :class:`~.authentication.RedisJWTAuthentication` can answer.
AUTHENTICATION_ERRORS: tuple[type[exceptions.APIException], ...] = (
    exceptions.NotAuthenticated,
    BadAuthorizationHeader,
    InvalidToken,
    TokenRevoked,
    UserNotFound,
    UserInactive,
    AuthUnavailable,
)


#: Exception classes the package raises with a code other than their own.
ACCESS_DENIED = ErrorCode(
    "access_denied", status.HTTP_401_UNAUTHORIZED, "The user declined at Google's consent page."
)


GOOGLE_ADDRESS_INVALID = ErrorCode(
    "invalid_email", status.HTTP_403_FORBIDDEN, "The Google account has no usable address."
)


RAISED_WITH_OTHER_CODES: tuple[ErrorCode, ...] = (ACCESS_DENIED, GOOGLE_ADDRESS_INVALID)


#: Every error code the package can answer with, by code. A code that comes with more than
#: one status (``token_not_valid``: 401 as a bearer token, 400 in a ``logout/`` body) has
#: one entry per status.
ERROR_CODES: dict[str, tuple[ErrorCode, ...]] = {}


for _exc, _description in _descriptions().items():
    ERROR_CODES.setdefault(str(_exc.default_code), ())
    ERROR_CODES[str(_exc.default_code)] += (_entry(_exc, _description),)


for _extra in RAISED_WITH_OTHER_CODES:
    ERROR_CODES.setdefault(_extra.code, ())
    ERROR_CODES[_extra.code] += (_extra,)


for _code, _description in VALIDATION_CODES.items():
    ERROR_CODES.setdefault(_code, ())
    ERROR_CODES[_code] += (ErrorCode(_code, status.HTTP_400_BAD_REQUEST, _description),)


del _exc, _code, _description, _extra


# Validation codes the handler lets through: the list above and every 400 class's own code.
PASSED_THROUGH = frozenset(
    code for code, entries in ERROR_CODES.items() for e in entries if e.status == 400
)

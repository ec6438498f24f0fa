"""Error codes and the JSON error handler.

Every error leaves as ``{"detail": "...", "code": "..."}``; validation errors add
``"errors": {field: [...]}``. The codes are part of the public contract and all of them are
listed in one registry, :data:`ERROR_CODES` (the exception classes below plus the validation
codes the handler emits): the OpenAPI schema and docs/api.md are checked against it, and the
handler never emits a validation code that is not in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework_simplejwt import exceptions as simplejwt_exceptions


class AuthUnavailable(exceptions.APIException):
    """Redis (the source of truth for revocation and codes) cannot be reached."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Authentication is temporarily unavailable. Try again shortly.")
    default_code = "auth_unavailable"
    wait = 5  # seconds, sent as Retry-After (DRF's handler reads ``wait``)


class DatabaseUnavailable(exceptions.APIException):
    """The database cannot be reached (connection refused, dropped, or not accepted)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is temporarily unavailable. Try again shortly.")
    default_code = "database_unavailable"
    wait = 5


class InvalidCredentials(exceptions.AuthenticationFailed):
    default_detail = _("No active account found with the given credentials.")
    default_code = "invalid_credentials"


class EmailNotVerified(exceptions.PermissionDenied):
    default_detail = _("Verify your email address before signing in.")
    default_code = "email_not_verified"


class TokenRevoked(exceptions.AuthenticationFailed):
    default_detail = _("Token has been revoked. Sign in again.")
    default_code = "token_revoked"


class InvalidToken(simplejwt_exceptions.InvalidToken):
    """simplejwt's class, so code that catches simplejwt's ``InvalidToken`` catches ours."""

    default_detail = _("Token is invalid or expired.")
    default_code = "token_not_valid"


class TokenReused(exceptions.AuthenticationFailed):
    default_detail = _("Refresh token was already used; every token of this session is revoked.")
    default_code = "token_reused"


class RateLimited(exceptions.Throttled):
    """429 with ``Retry-After`` (DRF sets the header from ``wait``)."""

    default_detail = _("Too many requests. Try again later.")
    default_code = "rate_limited"

    def __init__(self, wait: float, code: str | None = None) -> None:
        super().__init__(wait=max(1, math.ceil(wait)), code=code or self.default_code)
        # Throttled appends "Expected available in N seconds." to the message; keep it stable.
        self.detail = exceptions.ErrorDetail(str(self.default_detail), code or self.default_code)


class LoginThrottled(RateLimited):
    """Too many failed passwords for this account from this client, or from this client
    overall: 429 + ``Retry-After``, whatever the password (password_guard.py)."""

    default_detail = _("Too many failed sign-in attempts. Try again later.")
    default_code = "login_throttled"


class InvalidCode(exceptions.APIException):
    """Wrong, expired, used and unknown codes look alike: telling them apart would tell an
    attacker whether an address has a pending code."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The code is invalid or has expired.")
    default_code = "invalid_code"


class TooManyAttempts(InvalidCode):
    default_detail = _("Too many wrong codes; this code is destroyed. Request a new one.")
    default_code = "too_many_attempts"


class PasswordInvalid(exceptions.ValidationError):
    """The password validators refused ``field``: a 400 ``password_invalid`` whose
    ``errors`` carry their messages, like any other invalid field."""

    default_code = "password_invalid"

    def __init__(self, messages: list[str], field: str = "password") -> None:
        super().__init__({field: messages}, code=self.default_code)
        self.messages = messages


class WrongPassword(exceptions.ValidationError):
    """The current password given to confirm an account change is wrong. A 400, not a 401:
    the caller's token is fine, and a 401 would make clients sign out."""

    default_code = "wrong_password"

    def __init__(self, field: str = "password") -> None:
        super().__init__({field: [_("The password is not correct.")]}, code=self.default_code)


class SessionNotFound(exceptions.NotFound):
    default_detail = _("No such signed-in session.")
    default_code = "session_not_found"


class SecondFactorUnavailable(exceptions.PermissionDenied):
    """``SECOND_FACTOR = "off"``, or the user model has no ``otp_required`` field."""

    default_detail = _("The emailed second factor is not available.")
    default_code = "second_factor_unavailable"


class SecondFactorAlreadyOn(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The emailed second factor is already on.")
    default_code = "second_factor_already_on"


class SecondFactorRequired(exceptions.PermissionDenied):
    default_detail = _("Every account must use the emailed second factor here.")
    default_code = "second_factor_required"


class EmailUnchanged(exceptions.ValidationError):
    default_code = "email_unchanged"

    def __init__(self) -> None:
        super().__init__(
            {"new_email": [_("This is already the account's address.")]}, code=self.default_code
        )


class EmailTaken(exceptions.APIException):
    """Only answered once a code has proved the caller owns the address."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("Another account uses this address now.")
    default_code = "email_taken"


class PasswordRequired(exceptions.ValidationError):
    default_code = "password_required"

    def __init__(self) -> None:
        super().__init__({"password": [_("Enter your password.")]}, code=self.default_code)


# --- Google sign-in (social.py) -------------------------------------------------------------


class ProviderNotConfigured(exceptions.NotFound):
    """Google sign-in is off: no client id, or the ``[google]`` extra is not installed."""

    default_detail = _("Google sign-in is not configured on this server.")
    default_code = "provider_not_configured"


class InvalidSocialToken(exceptions.AuthenticationFailed):
    """Google did not vouch for the credential: bad signature, expired, wrong audience or
    issuer, or an authorization code / access token Google refused."""

    default_detail = _("The Google credential is invalid or has expired.")
    default_code = "invalid_social_token"


class ProviderUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Google cannot be reached right now. Try again shortly.")
    default_code = "provider_unavailable"


class AccountExists(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _(
        "An account with this email address already exists, and Google has not verified "
        "that the address belongs to you. Sign in with your password instead."
    )
    default_code = "account_exists"


class SocialEmailNotVerified(exceptions.PermissionDenied):
    default_detail = _(
        "Google has not verified this email address, so it cannot be used to create an account."
    )
    default_code = "social_email_not_verified"


class SocialEmailRefused(exceptions.PermissionDenied):
    """Google's address is not one this site accepts (``email_not_allowed``, e.g. a
    non-ASCII local part without ALLOW_UNICODE_LOCAL_PART) or no address at all
    (``invalid_email``)."""

    default_detail = _("This Google account's email address cannot be used here.")
    default_code = "email_not_allowed"


class SignupClosed(exceptions.PermissionDenied):
    default_detail = _("There is no account for this Google address, and sign-up is closed.")
    default_code = "signup_closed"


class SignInNotAllowed(exceptions.PermissionDenied):
    """A social-auth policy (allowed domains or emails) refused the Google account."""

    default_detail = _("This Google account may not sign in here.")
    default_code = "sign_in_not_allowed"


class LastSignInMethod(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _(
        "Google is your only way to sign in. Set a password (password reset) before unlinking it."
    )
    default_code = "last_sign_in_method"


class NotLinked(exceptions.NotFound):
    default_detail = _("No Google account is linked to this account.")
    default_code = "not_linked"


class RedirectNotAllowed(exceptions.ValidationError):
    default_detail = _("This redirect target is not allowed.")
    default_code = "redirect_not_allowed"


class InvalidState(exceptions.ValidationError):
    """Unknown, expired, replayed or foreign-browser ``state`` at the OAuth callback."""

    default_detail = _("This sign-in attempt is unknown or has expired. Start again.")
    default_code = "invalid_state"


class UserNotFound(exceptions.AuthenticationFailed):
    default_detail = _("User not found.")
    default_code = "user_not_found"


class UserInactive(exceptions.AuthenticationFailed):
    default_detail = _("User is inactive.")
    default_code = "user_inactive"


class BadAuthorizationHeader(exceptions.AuthenticationFailed):
    """Raised by simplejwt's ``get_header``/``get_raw_token`` (with this code) when the
    ``Authorization`` header is not ``Bearer <token>``; declared here so the code has a home."""

    default_detail = _("Authorization header must contain two space-delimited values.")
    default_code = "bad_authorization_header"


class RefreshTokenInvalid(exceptions.ValidationError):
    """A refresh token in a request *body* that cannot be used (``logout/``): a 400, since
    the caller is authenticated and only the body is wrong."""

    default_detail = _("Refresh token is invalid or expired.")
    default_code = "token_not_valid"


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

_DESCRIPTIONS: dict[type[exceptions.APIException], str] = {
    AuthUnavailable: "Redis cannot be reached; nothing was done. Retry shortly.",
    DatabaseUnavailable: "The database cannot be reached; nothing was done. Retry after "
    "`Retry-After` seconds (users in the user cache keep working).",
    InvalidCredentials: "Wrong email or password (the same answer for unknown emails).",
    EmailNotVerified: "The password is right but the email address is not verified yet.",
    TokenRevoked: "The token was revoked (logout, logout everywhere, password change, ...).",
    InvalidToken: "The token is malformed, expired, of the wrong type or not ours.",
    TokenReused: "An already rotated refresh token was presented: its whole session is revoked.",
    RateLimited: "Resend cooldown, an hourly cap, or too many wrong codes from this client; "
    "wait `Retry-After` seconds.",
    LoginThrottled: "Too many failed passwords for this account from this client (or from "
    "this client overall); wait `Retry-After` seconds, whatever the password.",
    InvalidCode: "The code is wrong, expired, used or was never sent.",
    TooManyAttempts: "Too many wrong codes: the code is destroyed. Request a new one.",
    PasswordInvalid: "The new password fails the project's password validators (see `errors`).",
    UserNotFound: "The token's user no longer exists.",
    UserInactive: "The token's user is deactivated.",
    BadAuthorizationHeader: "The `Authorization` header is not `Bearer <token>`.",
    RefreshTokenInvalid: "The refresh token in the body is invalid, expired or another user's.",
    exceptions.NotAuthenticated: "No `Authorization: Bearer <access>` header.",
    WrongPassword: "The current password given to confirm an account change is wrong.",
    SessionNotFound: "No such signed-in session of this user (unknown, ended or another's).",
    SecondFactorUnavailable: "The emailed second factor is off here (`SECOND_FACTOR`), or "
    "the user model has no `otp_required` field.",
    SecondFactorAlreadyOn: "The emailed second factor is already on.",
    SecondFactorRequired: '`SECOND_FACTOR="required"`: the second factor cannot be turned off.',
    EmailUnchanged: "The new address is the account's address already.",
    EmailTaken: "Another account has the new address now (answered only after its code).",
    PasswordRequired: "This account has a password: deleting it needs the password.",
    ProviderNotConfigured: "Google sign-in is not configured (no client id, or no `[google]`).",
    InvalidSocialToken: "Google did not vouch for the credential (signature, expiry, "
    "audience, issuer), or refused the code / access token.",
    ProviderUnavailable: "Google cannot be reached; nothing was done. Retry shortly.",
    AccountExists: "An account has this address and Google has not verified it is yours: "
    "sign in with the password.",
    SocialEmailNotVerified: "Google has not verified the account's address: no account is "
    "created from it.",
    SocialEmailRefused: "The Google account's address is of a kind this site refuses.",
    SignupClosed: "No account has this Google address, and sign-up is closed.",
    SignInNotAllowed: "A social-auth policy (allowed domains or emails) refused the account.",
    LastSignInMethod: "Google is the account's only way in: set a password before unlinking.",
    NotLinked: "No Google account is linked to this account.",
    RedirectNotAllowed: "The redirect target is not in `GOOGLE_REDIRECT_ALLOWED`.",
    InvalidState: "Unknown, expired, replayed or other-browser sign-in attempt: start again.",
    exceptions.UnsupportedMediaType: "The body is not `application/json`.",
}

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
for _exc, _description in _DESCRIPTIONS.items():
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
_PASSED_THROUGH = frozenset(
    code for code, entries in ERROR_CODES.items() for e in entries if e.status == 400
)


def _first_code(detail: Any) -> str:
    if isinstance(detail, exceptions.ErrorDetail):
        return detail.code or "invalid"
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_code(value)
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return "invalid"


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def _database_unavailable(exc: Exception) -> DatabaseUnavailable:
    """A database connection error as a 503, logged once per outage. Recovery is noticed
    when Django next opens a connection (``outages.database_connected``)."""
    from . import outages

    outages.database.failed(outages.describe(exc), consequence="; answering 503")
    return DatabaseUnavailable()


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler giving every error the ``{"detail", "code"}`` shape."""
    # Imported here: rest_framework.views imports the authentication classes, which import us.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, RequestDataTooBig):
        exc = exceptions.ValidationError(_("Request body too large."), code="request_too_large")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, OperationalError | InterfaceError):
        exc = _database_unavailable(exc)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, AuthUnavailable | DatabaseUnavailable):
        # The outage is logged once (outages.py); without this Django would log every one of
        # these answers at ERROR on "django.request" (and mail them to ADMINS).
        response._has_been_logged = True
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        field = next(iter(detail), "")
        code = _first_code(detail)
        if code not in _PASSED_THROUGH:
            code = "invalid_email" if "email" in field else "invalid_input"
        response.data = {
            "detail": str(_("Invalid input.")),
            "code": code,
            "errors": _flatten(detail),
        }
        return response
    if isinstance(exc, exceptions.ParseError):
        response.data = {"detail": str(detail), "code": "malformed_request"}
        return response
    if isinstance(detail, list):
        detail = detail[0] if detail else exc.default_detail
    elif isinstance(detail, dict):
        detail = detail.get("detail", exc.default_detail)
    code = _first_code(exc.detail)
    if isinstance(exc.detail, dict) and "code" in exc.detail:
        # simplejwt's errors carry their code beside the detail (whose own code is generic).
        code = str(exc.detail["code"])
    response.data = {"detail": str(detail), "code": code}
    return response


def detail_and_code(exc: exceptions.APIException) -> tuple[str, str]:
    """The ``detail`` and ``code`` :func:`exception_handler` would render for ``exc``
    (for integrations that render errors themselves, such as ``ninja_auth``)."""
    detail = exc.detail
    if isinstance(detail, list):
        detail = detail[0] if detail else exc.default_detail
    elif isinstance(detail, dict):
        detail = detail.get("detail", exc.default_detail)
    return str(detail), _first_code(exc.detail)

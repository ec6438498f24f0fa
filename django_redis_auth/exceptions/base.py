"""The package's error classes (Google's are in :mod:`.google`). Each is listed with
what it means in ``DESCRIPTIONS``, from which :mod:`.registry` builds ``ERROR_CODES``."""

from __future__ import annotations

import math

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
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


class LoginByCodeDisabled(exceptions.NotFound):
    default_detail = _("Sign-in by emailed code is turned off here.")
    default_code = "login_code_disabled"


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


#: What each code means for a client (docs/api.md and the OpenAPI schema).
DESCRIPTIONS: dict[type[exceptions.APIException], str] = {
    AuthUnavailable: "Redis cannot be reached; nothing was done. Retry shortly.",
    DatabaseUnavailable: "The database cannot be reached; nothing was done. Retry after "
    "`Retry-After` seconds (users in the user cache keep working).",
    InvalidCredentials: "Wrong email or password (the same answer for unknown emails).",
    EmailNotVerified: "The password is right but the email address is not verified yet.",
    TokenRevoked: "The token was revoked (logout, logout everywhere, password change, ...).",
    InvalidToken: "The token is malformed, expired, of the wrong type or not ours.",
    TokenReused: "An already rotated refresh token was presented: its whole session is revoked.",
    RateLimited: "Resend cooldown, an hourly cap, or too many wrong codes from this client (or "
    "too many introspection requests from this client); wait `Retry-After` seconds.",
    LoginThrottled: "Too many failed passwords for this account from this client (or from this "
    "client overall); wait `Retry-After` seconds, whatever the password.",
    InvalidCode: "The code is wrong, expired, used or was never sent.",
    TooManyAttempts: "Too many wrong codes: the code is destroyed. Request a new one.",
    PasswordInvalid: "The new password fails the project's password validators (see `errors`).",
    UserNotFound: "The token's user no longer exists.",
    LoginByCodeDisabled: "`login/code/`: sign-in by emailed code is off (`LOGIN_BY_CODE`).",
    UserInactive: "The token's user is deactivated.",
    BadAuthorizationHeader: "The `Authorization` header is not `Bearer <token>`.",
    RefreshTokenInvalid: "The refresh token in the body is invalid, expired or another user's.",
    exceptions.NotAuthenticated: "No `Authorization: Bearer <access>` header.",
    WrongPassword: "The current password given to confirm an account change is wrong.",
    SessionNotFound: "No such signed-in session of this user (unknown, ended or another's).",
    SecondFactorUnavailable: "The emailed second factor is off here (`SECOND_FACTOR`), or the "
    "user model has no `otp_required` field.",
    SecondFactorAlreadyOn: "The emailed second factor is already on.",
    SecondFactorRequired: '`SECOND_FACTOR="required"`: the second factor cannot be turned off.',
    EmailUnchanged: "The new address is the account's address already.",
    EmailTaken: "Another account has the new address now (answered only after its code).",
    PasswordRequired: "This account has a password: deleting it needs the password.",
    exceptions.UnsupportedMediaType: "The body is not `application/json`.",
}

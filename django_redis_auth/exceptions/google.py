"""Errors of Google sign-in (:mod:`django_redis_auth.google`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status


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


DESCRIPTIONS: dict[type[exceptions.APIException], str] = {
    ProviderNotConfigured: "Google sign-in is not configured (no client id, or no `[google]`).",
    InvalidSocialToken: "Google did not vouch for the credential (signature, expiry, audience, "
    "issuer), or refused the code / access token.",
    ProviderUnavailable: "Google cannot be reached; nothing was done. Retry shortly.",
    AccountExists: "An account has this address and Google has not verified it is yours: sign in "
    "with the password.",
    SocialEmailNotVerified: "Google has not verified the account's address: no account is created "
    "from it.",
    SocialEmailRefused: "The Google account's address is of a kind this site refuses.",
    SignupClosed: "No account has this Google address, and sign-up is closed.",
    SignInNotAllowed: "A social-auth policy (allowed domains or emails) refused the account.",
    LastSignInMethod: "Google is the account's only way in: set a password before unlinking.",
    NotLinked: "No Google account is linked to this account.",
    RedirectNotAllowed: "The redirect target is not in `GOOGLE_REDIRECT_ALLOWED`.",
    InvalidState: "Unknown, expired, replayed or other-browser sign-in attempt: start again.",
}

"""Errors of multi-factor authentication (:mod:`django_redis_auth.mfa`). Wrong, replayed
and expired codes are the shared ``invalid_code`` / ``too_many_attempts``
(:mod:`django_redis_auth.exceptions.base`): telling them apart would help a guesser."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

from django_redis_auth.exceptions.base import RateLimited


class MethodNotAvailable(exceptions.ValidationError):
    """``method`` is not one the account may use for this step: a method it has no factor
    for, or the emailed code while an authenticator app is enrolled (an inbox alone never
    passes the second step)."""

    default_detail = _("This account cannot use this method here.")
    default_code = "method_not_available"

    def __init__(self) -> None:
        super().__init__({"method": [self.default_detail]}, code=self.default_code)


class TOTPThrottled(RateLimited):
    """Too many wrong authenticator codes for this account over the last hour (the cap is
    per account, so a guesser with the password cannot keep trying); recovery codes are not
    counted in it and keep working."""

    default_detail = _(
        "Too many wrong authenticator codes. Try again later, or use a recovery code."
    )
    default_code = "totp_throttled"


class TOTPAlreadyEnabled(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("An authenticator app is already set up. Turn it off first.")
    default_code = "totp_already_enabled"


class TOTPNotEnabled(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("No authenticator app is set up.")
    default_code = "totp_not_enabled"


class TOTPSetupExpired(exceptions.ValidationError):
    """``2fa/totp/confirm/`` without a pending setup: never started, expired
    (``TOTP_SETUP_TTL``), confirmed already, or destroyed by too many wrong codes."""

    default_detail = _("No authenticator setup is pending (it expires after a while). Start again.")
    default_code = "totp_setup_expired"

    def __init__(self) -> None:
        super().__init__({"code": [self.default_detail]}, code=self.default_code)


class FactorRequired(exceptions.APIException):
    """Recovery codes back up a factor: without one (an authenticator app) there is nothing
    for them to recover."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("Set up an authenticator app before creating recovery codes.")
    default_code = "factor_required"


class ReauthenticationRequired(exceptions.PermissionDenied):
    """A change to how the user signs in, without a sign-in or ``reauth/`` within
    ``REAUTH_WINDOW``: a stolen access token alone must not be enough to lock the owner out
    or add the thief's own factor. ``methods`` says what ``reauth/`` takes from this user."""

    default_detail = _("Confirm it is you first: sign in again or use reauth/.")
    default_code = "reauthentication_required"

    def __init__(self, methods: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__()
        self.extra_body = {"methods": list(methods)}


class InvalidCredential(exceptions.ValidationError):
    """A passkey answer that does not verify: malformed, another origin or RP id, no user
    presence or verification, a bad signature, a sign count that went backwards, a
    credential this server (or this account) does not know. Which one is logged, not said."""

    default_detail = _("This passkey could not be verified.")
    default_code = "invalid_credential"

    def __init__(self) -> None:
        super().__init__({"credential": [self.default_detail]}, code=self.default_code)


class ChallengeExpired(exceptions.ValidationError):
    """The WebAuthn challenge the answer signed is not pending: never issued, older than
    ``PASSKEY_CHALLENGE_TTL``, or used already (a replay)."""

    default_detail = _("This passkey request has expired or was used already. Start again.")
    default_code = "challenge_expired"

    def __init__(self) -> None:
        super().__init__({"credential": [self.default_detail]}, code=self.default_code)


class PasskeysNotEnabled(exceptions.NotFound):
    default_detail = _("Passkeys are not enabled on this site.")
    default_code = "passkeys_not_enabled"


class PasskeyNotFound(exceptions.NotFound):
    default_detail = _("No such passkey on this account.")
    default_code = "passkey_not_found"


class PasskeyLimitReached(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This account has as many passkeys as it may have. Remove one first.")
    default_code = "passkey_limit_reached"


DESCRIPTIONS: dict[type[exceptions.APIException], str] = {
    MethodNotAvailable: "The account has no factor for this `method`, or it has an "
    "authenticator app and `method` is `email` (not offered then).",
    TOTPThrottled: "Too many wrong authenticator codes for this account in the last hour; wait "
    "`Retry-After` seconds or use a recovery code (not counted in this cap).",
    TOTPAlreadyEnabled: "An authenticator app is enrolled already: disable it before setting "
    "up another.",
    TOTPNotEnabled: "The account has no authenticator app to disable.",
    TOTPSetupExpired: "No pending authenticator setup (expired, confirmed, or destroyed by "
    "wrong codes): call `2fa/totp/setup/` again.",
    FactorRequired: "Recovery codes need an enrolled factor (an authenticator app) first.",
    ReauthenticationRequired: "This change needs a sign-in or `reauth/` within "
    "`REAUTH_WINDOW`; `methods` lists what `reauth/` accepts from this user (`password`, "
    "`totp`, `recovery_code`, `passkey`, `email`).",
    InvalidCredential: "The passkey answer does not verify (malformed, wrong origin or RP id, "
    "no user verification, bad signature, sign count gone backwards, unknown credential).",
    ChallengeExpired: "The WebAuthn challenge is not pending (expired after "
    "`PASSKEY_CHALLENGE_TTL`, or used already): ask for new options.",
    PasskeysNotEnabled: "Passkeys are off on this site (`PASSKEYS`).",
    PasskeyNotFound: "No passkey with this id on the caller's account.",
    PasskeyLimitReached: "The account has `PASSKEYS_PER_USER` passkeys already.",
}

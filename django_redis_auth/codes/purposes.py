"""What a one-time code is for, and which emails the package sends: one enumeration each.

A code is bound to its purpose (inside its HMAC, and in its key), so every place that
names a purpose — serializers, the code store, key names, mail templates — takes it from
here. Members are ``str`` subclasses, so they compare equal to their plain values.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["EmailKind", "Purpose"]


class Purpose(StrEnum):
    EMAIL_VERIFICATION = "email_verification"
    LOGIN = "login"
    PASSWORD_RESET = "password_reset"
    # Account self-service by a signed-in user (account.py).
    SECOND_FACTOR = "second_factor"  # confirms turning the emailed second factor on
    EMAIL_CHANGE = "email_change"  # sent to the new address
    ACCOUNT_DELETE = "account_delete"  # for accounts without a usable password
    REAUTH = "reauth"  # reauth/ of an account with neither a password nor an authenticator
    LOGIN_CODE = "login_code"  # passwordless sign-in by emailed code (login/code/)

    @property
    def tag(self) -> str:
        """One letter in the code's key name (keys.code)."""
        return _TAGS[self]

    @property
    def budget(self) -> str:
        """The hourly budget per address this purpose's codes are charged to. Codes anyone
        may ask for in someone's name ("o"pen) are counted apart from the password-checked
        login code ("l"), so asking for resets cannot use up the codes a sign-in needs.
        A signed-in user's own account codes ("a") are apart from both, and email-change
        codes ("c") count against the *new* address apart from everything its owner needs
        (someone changing their address to yours cannot use up your codes)."""
        return _BUDGETS[self]


_TAGS = {
    Purpose.EMAIL_VERIFICATION: "v",
    Purpose.LOGIN: "l",
    Purpose.PASSWORD_RESET: "r",
    Purpose.SECOND_FACTOR: "s",
    Purpose.EMAIL_CHANGE: "c",
    Purpose.ACCOUNT_DELETE: "d",
    Purpose.REAUTH: "u",
    Purpose.LOGIN_CODE: "p",
}
_BUDGETS = {
    Purpose.EMAIL_VERIFICATION: "o",
    Purpose.LOGIN: "l",
    Purpose.PASSWORD_RESET: "o",
    Purpose.SECOND_FACTOR: "a",
    Purpose.EMAIL_CHANGE: "c",
    Purpose.ACCOUNT_DELETE: "a",
    Purpose.REAUTH: "a",
    # Its own budget: anyone may ask for one in your name, and asking must use up neither
    # your reset codes nor the codes of a password sign-in.
    Purpose.LOGIN_CODE: "p",
}

# Purposes a client may ask ``otp/`` to (re)send.
RESENDABLE = (
    Purpose.EMAIL_VERIFICATION,
    Purpose.LOGIN,
    Purpose.PASSWORD_RESET,
    Purpose.LOGIN_CODE,
)


class EmailKind(StrEnum):
    """Template names under ``django_redis_auth/email/``: every code purpose, plus notices."""

    EMAIL_VERIFICATION = "email_verification"
    LOGIN = "login"
    PASSWORD_RESET = "password_reset"
    SECOND_FACTOR = "second_factor"
    EMAIL_CHANGE = "email_change"
    ACCOUNT_DELETE = "account_delete"
    REAUTH = "reauth"
    LOGIN_CODE = "login_code"
    SIGNUP_EXISTS = "signup_exists"  # someone tried to sign up with your address
    PASSWORD_CHANGED = "password_changed"  # your password was changed
    SECOND_FACTOR_DISABLED = "second_factor_disabled"  # the emailed second factor is off
    EMAIL_CHANGE_REQUESTED = "email_change_requested"  # to the old address: a change began
    EMAIL_CHANGED = "email_changed"  # to the old address: the account moved to another
    ACCOUNT_DELETED = "account_deleted"  # your account was deleted
    NEW_DEVICE = "new_device"  # a sign-in from a device the account has not used lately
    FACTOR_CHANGED = "factor_changed"  # an authenticator, recovery codes or a passkey changed

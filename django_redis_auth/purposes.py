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

    @property
    def tag(self) -> str:
        """One letter in the code's key name (keys.code)."""
        return _TAGS[self]

    @property
    def budget(self) -> str:
        """The hourly budget per address this purpose's codes are charged to. Codes anyone
        may ask for in someone's name ("o"pen) are counted apart from the password-checked
        login code ("l"), so asking for resets cannot use up the codes a sign-in needs."""
        return _BUDGETS[self]


_TAGS = {Purpose.EMAIL_VERIFICATION: "v", Purpose.LOGIN: "l", Purpose.PASSWORD_RESET: "r"}
_BUDGETS = {Purpose.EMAIL_VERIFICATION: "o", Purpose.LOGIN: "l", Purpose.PASSWORD_RESET: "o"}

# Purposes a client may ask ``otp/`` to (re)send.
RESENDABLE = (Purpose.EMAIL_VERIFICATION, Purpose.LOGIN, Purpose.PASSWORD_RESET)


class EmailKind(StrEnum):
    """Template names under ``django_redis_auth/email/``: every code purpose, plus notices."""

    EMAIL_VERIFICATION = "email_verification"
    LOGIN = "login"
    PASSWORD_RESET = "password_reset"
    SIGNUP_EXISTS = "signup_exists"  # someone tried to sign up with your address
    PASSWORD_CHANGED = "password_changed"  # your password was changed

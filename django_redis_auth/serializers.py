"""Request bodies. Bounded lengths: oversized input is a 400, never work for the server."""

from __future__ import annotations

from rest_framework import serializers

from .emails import EmailNotAllowed, canonical_email
from .purposes import RESENDABLE

EMAIL_MAX = 254
PASSWORD_MAX = 1024
TOKEN_MAX = 4096
CODE_MAX = 32


class EmailField(serializers.CharField):
    """An address in its canonical form (emails.py); 400 ``invalid_email`` or
    ``email_not_allowed`` otherwise. Not DRF's ``EmailField``: Django's validator accepts
    letters such as U+0131 (dotless i) and U+017F (long s) that databases and Python fold
    differently."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", EMAIL_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return canonical_email(super().to_internal_value(data))
        except EmailNotAllowed as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from None


class PasswordField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", PASSWORD_MAX)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("write_only", True)
        super().__init__(**kwargs)


class CodeField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", CODE_MAX)
        super().__init__(**kwargs)


class LoginSerializer(serializers.Serializer):
    email = EmailField()
    password = PasswordField()


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=TOKEN_MAX)


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=TOKEN_MAX, required=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class SignupSerializer(serializers.Serializer):
    email = EmailField()
    password = PasswordField()


class EmailCodeSerializer(serializers.Serializer):
    email = EmailField()
    code = CodeField()


class ChallengeCodeSerializer(serializers.Serializer):
    challenge = serializers.CharField(max_length=TOKEN_MAX)
    code = CodeField()


class RequestCodeSerializer(serializers.Serializer):
    """``otp/`` body. ``challenge`` is needed (only) to resend a ``login`` code."""

    email = EmailField()
    purpose = serializers.ChoiceField(choices=[p.value for p in RESENDABLE])
    challenge = serializers.CharField(max_length=TOKEN_MAX, required=False)


class EmailSerializer(serializers.Serializer):
    email = EmailField()


class PasswordResetConfirmSerializer(serializers.Serializer):
    email = EmailField()
    code = CodeField()
    new_password = PasswordField()


class UserSerializer(serializers.Serializer):
    """What ``me/`` shows: the user's id, email and flags, from the cached user."""

    id = serializers.CharField(source="pk", read_only=True)
    email = serializers.SerializerMethodField()
    email_verified = serializers.SerializerMethodField()
    is_staff = serializers.BooleanField(read_only=True, default=False)

    def get_email(self, user) -> str:
        return getattr(user, user.get_email_field_name(), "")

    def get_email_verified(self, user) -> bool:
        return bool(getattr(user, "email_verified", True))

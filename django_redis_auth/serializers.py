"""Request bodies. Bounded lengths: oversized input is a 400, never work for the server."""

from __future__ import annotations

from datetime import UTC

from rest_framework import serializers

from . import users
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
    """What ``me/`` shows (from the cached user) and what ``PATCH me/`` may change: the
    profile fields in ``PROFILE_FIELDS`` that the user model has (a model without one simply
    does not show it: an optional field with no attribute is skipped). Swap it with
    ``USER_SERIALIZER``; a replacement's ``update()`` should save with ``update_fields``
    (the cached instance has no password loaded)."""

    PROFILE_FIELDS = ("first_name", "last_name")

    id = serializers.CharField(source="pk", read_only=True)
    email = serializers.SerializerMethodField()
    email_verified = serializers.SerializerMethodField()
    otp_required = serializers.SerializerMethodField()
    is_staff = serializers.BooleanField(read_only=True, default=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)

    def get_email(self, user) -> str:
        return getattr(user, user.get_email_field_name(), "")

    def get_email_verified(self, user) -> bool:
        return bool(getattr(user, "email_verified", True))

    def get_otp_required(self, user) -> bool:
        """Whether signing in asks for an emailed code (the user's flag under the policy)."""
        return users.second_factor_required(user)

    def _profile_fields(self, user) -> list[str]:
        names = {f.name for f in user._meta.concrete_fields}
        return [name for name in self.PROFILE_FIELDS if name in names]

    def update(self, instance, validated_data):
        fields = [name for name in self._profile_fields(instance) if name in validated_data]
        for name in fields:
            setattr(instance, name, validated_data[name])
        if fields:
            instance.save(update_fields=fields)
        return instance


# --- account and session management (views/account.py, views/devices.py) ------------------


class DeviceSerializer(serializers.Serializer):
    """One signed-in session (device) in ``sessions/``."""

    id = serializers.CharField(read_only=True)
    created = serializers.DateTimeField(read_only=True, allow_null=True, default_timezone=UTC)
    last_used = serializers.DateTimeField(read_only=True, allow_null=True, default_timezone=UTC)
    user_agent = serializers.CharField(read_only=True)
    ip = serializers.CharField(read_only=True, allow_null=True)
    current = serializers.BooleanField(read_only=True)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = PasswordField()
    new_password = PasswordField()


class CodeSerializer(serializers.Serializer):
    code = CodeField()


class PasswordSerializer(serializers.Serializer):
    password = PasswordField()


class EmailChangeSerializer(serializers.Serializer):
    new_email = EmailField()
    password = PasswordField()


class EmailChangeConfirmSerializer(serializers.Serializer):
    new_email = EmailField()
    code = CodeField()


class AccountDeleteSerializer(serializers.Serializer):
    """``password``, or for an account without a usable password the ``code`` an empty
    request mailed to it."""

    password = PasswordField(required=False)
    code = CodeField(required=False)


class SecondFactorSerializer(serializers.Serializer):
    otp_required = serializers.BooleanField(read_only=True)

"""Request and response bodies of sign-up, sign-in and account self-service."""

from __future__ import annotations

from rest_framework import serializers

from django_redis_auth.accounts import users
from django_redis_auth.codes.purposes import RESENDABLE
from django_redis_auth.serializers import TOKEN_MAX, CodeField, EmailField, PasswordField


class LoginSerializer(serializers.Serializer):
    email = EmailField()
    password = PasswordField()
    device_token = serializers.CharField(
        max_length=128,
        required=False,
        write_only=True,
        help_text="A trusted device's token (login/verify/ with trust_device): skips the "
        "second step while it lives (`MFA_TRUST_DAYS`).",
    )


class LoginChallengeSerializer(serializers.Serializer):
    """``login/``'s 202 when a second factor is due: the challenge goes to ``login/verify/``."""

    otp_required = serializers.BooleanField(default=True)
    challenge = serializers.CharField()
    methods = serializers.ListField(
        child=serializers.CharField(),
        help_text="What login/verify/ accepts for this account, best first: `totp`, "
        "`passkey`, `recovery_code`, `email`.",
    )
    publicKey = serializers.DictField(
        required=False,
        help_text="With `passkey` in methods: WebAuthn request options for this challenge.",
    )


class SignupSerializer(serializers.Serializer):
    email = EmailField()
    password = PasswordField()


class EmailCodeSerializer(serializers.Serializer):
    email = EmailField()
    code = CodeField()


class ChallengeCodeSerializer(serializers.Serializer):
    challenge = serializers.CharField(max_length=TOKEN_MAX)
    code = CodeField(required=False)
    method = serializers.ChoiceField(
        choices=["totp", "recovery_code", "email", "passkey"],
        required=False,
        help_text="Which kind of code this is; default: the first of the challenge's methods "
        "(`passkey` when a `credential` is given).",
    )
    credential = serializers.JSONField(
        required=False,
        help_text="Instead of a code: a passkey assertion (`credential.toJSON()`) answering "
        "the `publicKey` options of login/'s 202.",
    )
    trust_device = serializers.BooleanField(
        default=False,
        help_text="Also answer a `device_token` that skips the second step on this device "
        "for `MFA_TRUST_DAYS` (when the site turned it on).",
    )

    def validate(self, data):
        if data.get("code") is None and data.get("credential") is None:
            raise serializers.ValidationError(
                {"code": [serializers.Field.default_error_messages["required"]]}, code="required"
            )
        return data


class TrustedPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    device_token = serializers.CharField(
        required=False,
        help_text="With trust_device (and MFA_TRUST_DAYS): keep it, send it to login/.",
    )


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


class PasswordChangeSerializer(serializers.Serializer):
    current_password = PasswordField()
    new_password = PasswordField()


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


class ActivityQuerySerializer(serializers.Serializer):
    validation_codes = ("invalid_input",)  # a malformed cursor, a limit out of range
    before = serializers.RegexField(
        r"^\d{1,15}-\d{1,15}$",
        required=False,
        help_text="The cursor of the next page (the `Link: rel=next` header of the previous).",
    )
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)


class ActivityEventSerializer(serializers.Serializer):
    type = serializers.CharField(
        help_text="`sign_in`, `sign_in_failed`, `session_ended`, `refresh_reuse_detected`, "
        "`password_changed`, `email_changed`, `factor_added`, `factor_removed`, "
        "`recovery_code_used`, `reauthenticated`."
    )
    at = serializers.DateTimeField()
    ip = serializers.CharField(help_text="The client's network (coarsened), or empty.")
    user_agent = serializers.CharField()
    session = serializers.CharField(help_text="The session (device) id, as in `sessions/`.")
    method = serializers.CharField(
        help_text="How: the sign-in's method (`password`, `totp`, `google`, ...), why a "
        "session ended (`logout`, `capped`, ...), which factor changed."
    )

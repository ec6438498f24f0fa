"""Bodies of the ``2fa/`` endpoints (the request bodies are the shared ones)."""

from __future__ import annotations

from rest_framework import serializers

from django_redis_auth.serializers import CodeField, PasswordField


class FactorsSerializer(serializers.Serializer):
    """``GET 2fa/``: the user's factors and how many recovery codes are left."""

    methods = serializers.ListField(
        child=serializers.CharField(),
        help_text="The user's factors: `totp`, `passkey`, `recovery_code`, `email`.",
    )
    recovery_codes_left = serializers.IntegerField()


class TOTPSetupSerializer(serializers.Serializer):
    """``2fa/totp/setup/``: what an authenticator app needs, three ways."""

    secret = serializers.CharField(help_text="The base32 secret, to type in by hand.")
    otpauth_uri = serializers.CharField(help_text="`otpauth://totp/...` (Key URI Format).")
    qr_svg = serializers.CharField(help_text="The URI as a QR code, inline SVG.")


class RecoveryCodesPairSerializer(serializers.Serializer):
    """New recovery codes (shown this once) and the caller's fresh pair."""

    recovery_codes = serializers.ListField(child=serializers.CharField())
    access = serializers.CharField()
    refresh = serializers.CharField()


class ReauthSerializer(serializers.Serializer):
    """``reauth/``: one proof — a password, a code of ``method``, or a passkey ``credential``
    (``method: "email"`` without a code mails one)."""

    method = serializers.ChoiceField(
        choices=["password", "totp", "recovery_code", "email", "passkey"], required=False
    )
    password = PasswordField(required=False, allow_blank=False)
    code = CodeField(required=False)
    credential = serializers.JSONField(
        required=False, help_text="A passkey assertion: the browser's `credential.toJSON()`."
    )


class ReauthenticatedSerializer(serializers.Serializer):
    reauthenticated_until = serializers.IntegerField(
        help_text="Unix seconds until which this session counts as recently authenticated."
    )

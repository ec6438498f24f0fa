"""Bodies of the ``2fa/`` endpoints (the request bodies are the shared ones)."""

from __future__ import annotations

from rest_framework import serializers


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

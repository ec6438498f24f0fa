"""Request bodies of the Google sign-in endpoints."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from django_redis_auth.google.service import URL_MAX
from django_redis_auth.serializers import TOKEN_MAX


class GoogleSignInSerializer(serializers.Serializer):
    """Exactly one way in: ``id_token``, ``access_token``, or ``code`` with
    ``code_verifier`` and ``redirect_uri``."""

    id_token = serializers.CharField(max_length=TOKEN_MAX, required=False)
    access_token = serializers.CharField(max_length=TOKEN_MAX, required=False)
    code = serializers.CharField(max_length=TOKEN_MAX, required=False)
    # RFC 7636: 43 to 128 characters.
    code_verifier = serializers.CharField(min_length=43, max_length=128, required=False)
    redirect_uri = serializers.CharField(max_length=URL_MAX, required=False)
    # The codes validate() raises, for the OpenAPI schema (fields' codes are found from them).
    validation_codes = ("invalid_input", "required")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("id_token", "access_token", "code") if data.get(name)]
        if len(given) != 1:
            raise serializers.ValidationError(
                _("Send exactly one of id_token, access_token or code."), code="invalid_input"
            )
        if given == ["code"]:
            missing = [n for n in ("code_verifier", "redirect_uri") if not data.get(n)]
            if missing:
                raise serializers.ValidationError(
                    {n: [_("This field is required with code.")] for n in missing},
                    code="required",
                )
        return data


class GoogleStartSerializer(serializers.Serializer):
    next = serializers.CharField(max_length=URL_MAX)


class GoogleExchangeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=TOKEN_MAX)

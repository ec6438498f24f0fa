"""Bodies of the endpoints for other services."""

from __future__ import annotations

from rest_framework import serializers


class JWKSerializer(serializers.Serializer):
    """One public key (RFC 7517): ``kty`` and its type's public members, ``kid``, ``alg``,
    ``use``."""

    kty = serializers.CharField()
    kid = serializers.CharField()
    alg = serializers.CharField()
    use = serializers.CharField()
    n = serializers.CharField(required=False, help_text="RSA modulus")
    e = serializers.CharField(required=False, help_text="RSA exponent")
    crv = serializers.CharField(required=False, help_text="EC / OKP curve")
    x = serializers.CharField(required=False)
    y = serializers.CharField(required=False, help_text="EC only")


class JWKSetSerializer(serializers.Serializer):
    keys = JWKSerializer(many=True)


class IntrospectionRequestSerializer(serializers.Serializer):
    """RFC 7662 §2.1, form-encoded (or JSON)."""

    token = serializers.CharField(max_length=8192, trim_whitespace=True)
    token_type_hint = serializers.CharField(
        required=False, max_length=64, help_text="Accepted and ignored (RFC 7662 §2.1)."
    )


class IntrospectionSerializer(serializers.Serializer):
    """RFC 7662 §2.2: ``{"active": false}`` alone, or ``active: true`` with every claim of
    the token (the ones below and any other it carries, e.g. ``amr``, ``auth_time``)."""

    # Answers carry the token's claims beyond these fields (tests/conftest.py reads it).
    extra_fields_allowed = True

    active = serializers.BooleanField()
    token_type = serializers.CharField(required=False, help_text='"access" or "refresh"')
    sub = serializers.CharField(required=False, help_text="the user id, as a string")
    user_id = serializers.CharField(required=False)
    exp = serializers.IntegerField(required=False)
    iat = serializers.IntegerField(required=False)
    jti = serializers.CharField(required=False)
    fam = serializers.CharField(required=False, help_text="the session (device) id")

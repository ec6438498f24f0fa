"""Fields and bodies shared by every capability. Bounded lengths: oversized input is a 400,
never work for the server."""

from __future__ import annotations

from rest_framework import serializers

from django_redis_auth.emails import EmailNotAllowed, canonical_email

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


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class DetailSerializer(serializers.Serializer):
    """A success answer that only says what happened (the 202s, password reset)."""

    detail = serializers.CharField()


class CodeSerializer(serializers.Serializer):
    code = CodeField()


class PasswordSerializer(serializers.Serializer):
    password = PasswordField()


def __getattr__(name: str):
    # ``django_redis_auth.serializers.UserSerializer`` (a ``USER_SERIALIZER`` value before
    # 0.2) is now in accounts/; looked up lazily, as accounts imports this module.
    if name == "UserSerializer":
        from django_redis_auth.accounts.serializers import UserSerializer

        return UserSerializer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

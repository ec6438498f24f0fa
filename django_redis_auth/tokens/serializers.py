"""Bodies of token refresh, logout and the device list."""

from __future__ import annotations

from datetime import UTC

from rest_framework import serializers

from django_redis_auth.serializers import TOKEN_MAX


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=TOKEN_MAX)


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=TOKEN_MAX, required=False)


class DeviceSerializer(serializers.Serializer):
    """One signed-in session (device) in ``sessions/``."""

    id = serializers.CharField(read_only=True)
    created = serializers.DateTimeField(read_only=True, allow_null=True, default_timezone=UTC)
    last_used = serializers.DateTimeField(read_only=True, allow_null=True, default_timezone=UTC)
    user_agent = serializers.CharField(read_only=True)
    ip = serializers.CharField(read_only=True, allow_null=True)
    current = serializers.BooleanField(read_only=True)

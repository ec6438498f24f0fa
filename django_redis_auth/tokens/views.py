"""Token refresh, logout, and the signed-in devices (``sessions/``): thin HTTP over
:mod:`django_redis_auth.tokens`."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_out
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from django_redis_auth.accounts import users
from django_redis_auth.api import AuthenticatedAPIView, PublicAPIView
from django_redis_auth.clients import client_of
from django_redis_auth.exceptions import (
    AuthUnavailable,
    InvalidToken,
    RefreshTokenInvalid,
    SessionNotFound,
    TokenReused,
    TokenRevoked,
)
from django_redis_auth.serializers import TokenPairSerializer
from django_redis_auth.tokens import claims, devices, revocation
from django_redis_auth.tokens import issuing as tokens
from django_redis_auth.tokens.serializers import (
    DeviceSerializer,
    LogoutSerializer,
    RefreshSerializer,
)


class TokenRefreshView(PublicAPIView):
    """Rotate: the presented refresh token dies; presenting it again kills the session."""

    serializer_class = RefreshSerializer
    response_serializer_class = TokenPairSerializer
    errors = (InvalidToken, TokenRevoked, TokenReused, AuthUnavailable)

    def post(self, request: Request) -> Response:
        pair = tokens.rotate_refresh_token(self.validated()["refresh"], client_of(request))
        return Response(pair.as_dict())


class LogoutView(AuthenticatedAPIView):
    """Revoke the presented access token's session (and the given refresh token's)."""

    serializer_class = LogoutSerializer
    success_status = 204
    errors = (RefreshTokenInvalid, AuthUnavailable)

    def post(self, request: Request) -> Response:
        tokens.logout(request.auth, self.validated().get("refresh"))
        user_logged_out.send(sender=type(request.user), request=request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(AuthenticatedAPIView):
    """Revoke every token of the user issued up to now, on every device."""

    serializer_class = None
    success_status = 204
    errors = (AuthUnavailable,)

    def post(self, request: Request) -> Response:
        revocation.revoke_user(request.user, reason="logout_all")
        user_logged_out.send(sender=type(request.user), request=request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceListView(AuthenticatedAPIView):
    """GET → one entry per live session; ``current`` marks the caller's."""

    serializer_class = DeviceSerializer
    response_serializer_class = DeviceSerializer(many=True)
    errors = (AuthUnavailable,)

    def get(self, request: Request) -> Response:
        found = devices.list_devices(users.user_id_of(request.user), claims.of(request.auth).family)
        return Response(self.get_serializer(found, many=True).data)


class DeviceView(AuthenticatedAPIView):
    """DELETE → 204; that session's tokens are refused from the next request on."""

    serializer_class = None
    success_status = 204
    errors = (SessionNotFound, AuthUnavailable)

    def delete(self, request: Request, session_id: str) -> Response:
        devices.revoke_device(users.user_id_of(request.user), session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeOtherDevicesView(AuthenticatedAPIView):
    """POST → 204; every session of the caller but the one making this request ends."""

    serializer_class = None
    success_status = 204
    errors = (AuthUnavailable,)

    def post(self, request: Request) -> Response:
        devices.revoke_other_devices(users.user_id_of(request.user), claims.of(request.auth).family)
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Sign-in, token refresh, logout and the current user."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from .. import flows, revocation, tokens
from ..clients import client_of
from ..conf import auth_settings
from ..serializers import LoginSerializer, LogoutSerializer, RefreshSerializer
from .base import AuthenticatedAPIView, PublicAPIView


class LoginView(PublicAPIView):
    """Email + password → token pair, or a second-factor challenge (202)."""

    serializer_class = LoginSerializer

    def post(self, request: Request) -> Response:
        data = self.validated()
        result = flows.login(data["email"], data["password"], client_of(request))
        if isinstance(result, flows.Challenge):
            return Response(result.as_dict(), status=status.HTTP_202_ACCEPTED)
        return Response(result.as_dict())


class TokenRefreshView(PublicAPIView):
    """Rotate: the presented refresh token dies; presenting it again kills the session."""

    serializer_class = RefreshSerializer

    def post(self, request: Request) -> Response:
        pair = tokens.rotate_refresh_token(self.validated()["refresh"], client_of(request))
        return Response(pair.as_dict())


class LogoutView(AuthenticatedAPIView):
    """Revoke the presented access token's session (and the given refresh token's)."""

    serializer_class = LogoutSerializer

    def post(self, request: Request) -> Response:
        tokens.logout(request.auth, self.validated().get("refresh"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(AuthenticatedAPIView):
    """Revoke every token of the user issued up to now, on every device."""

    serializer_class = None

    def post(self, request: Request) -> Response:
        revocation.revoke_user(request.user, reason="logout_all")
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(AuthenticatedAPIView):
    """The signed-in user, from the user cache (``USER_SERIALIZER`` decides the shape)."""

    def get_serializer_class(self) -> Any:
        return auth_settings.USER_SERIALIZER

    def get(self, request: Request) -> Response:
        return Response(self.get_serializer(request.user).data)

    def patch(self, request: Request) -> Response:
        """Profile fields → the updated user (read-only fields are ignored)."""
        serializer = self.get_serializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)

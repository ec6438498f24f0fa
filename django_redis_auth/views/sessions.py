"""Sign-in, token refresh, logout and the current user."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from .. import flows, revocation, tokens, users
from ..conf import auth_settings
from ..exceptions import (
    AuthUnavailable,
    EmailNotVerified,
    InvalidCredentials,
    InvalidToken,
    RateLimited,
    RefreshTokenInvalid,
    TokenReused,
    TokenRevoked,
)
from ..serializers import (
    LoginChallengeSerializer,
    LoginSerializer,
    LogoutSerializer,
    RefreshSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from .base import AuthenticatedAPIView, PublicAPIView


class LoginView(PublicAPIView):
    """Email + password → token pair, or a second-factor challenge (202)."""

    serializer_class = LoginSerializer
    response_serializer_class = {200: TokenPairSerializer, 202: LoginChallengeSerializer}
    errors = (InvalidCredentials, EmailNotVerified, RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated(LoginSerializer)
        user = users.check_credentials(request._request, data["email"], data["password"])
        if user is None:
            raise InvalidCredentials()
        if auth_settings.REQUIRE_VERIFIED_EMAIL and not users.is_verified(user):
            raise EmailNotVerified()
        if users.second_factor_required(user):
            challenge = flows.start_login_challenge(user, request)
            return Response(
                {"otp_required": True, "challenge": challenge}, status=status.HTTP_202_ACCEPTED
            )
        return Response(tokens.issue_token_pair(user, request._request).as_dict())


class TokenRefreshView(PublicAPIView):
    """Rotate: the presented refresh token dies; presenting it again kills the session."""

    serializer_class = RefreshSerializer
    response_serializer_class = TokenPairSerializer
    errors = (InvalidToken, TokenRevoked, TokenReused, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated(RefreshSerializer)
        return Response(tokens.rotate_refresh_token(data["refresh"]).as_dict())


class LogoutView(AuthenticatedAPIView):
    """Revoke the presented access token's session (and the given refresh token's)."""

    serializer_class = LogoutSerializer
    success_status = 204
    errors = (RefreshTokenInvalid, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated(LogoutSerializer)
        to_revoke: list[Any] = [request.auth]
        if data.get("refresh"):
            try:
                refresh = tokens.parse_refresh(data["refresh"])
            except exceptions.AuthenticationFailed:
                raise RefreshTokenInvalid() from None
            if str(refresh[jwt_settings.USER_ID_CLAIM]) != str(
                request.auth[jwt_settings.USER_ID_CLAIM]
            ):
                raise RefreshTokenInvalid(_("Refresh token belongs to another user."))
            to_revoke.append(refresh)
        revocation.revoke_session(*to_revoke, reason="logout")
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(AuthenticatedAPIView):
    """Revoke every token of the user issued up to now, on every device."""

    success_status = 204
    errors = (AuthUnavailable,)

    def post(self, request: Request) -> Response:
        revocation.revoke_user(request.user, reason="logout_all")
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(AuthenticatedAPIView):
    """The signed-in user, served from the user cache."""

    response_serializer_class = UserSerializer
    errors = (AuthUnavailable,)

    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

"""Google sign-in endpoints: thin HTTP over :mod:`django_redis_auth.google.service`.

``google/`` (POST: sign in with an ID token, an access token or an SPA's code; DELETE:
unlink), ``google/start/`` → Google → ``google/callback/`` (browser redirects, no server
session) and ``google/exchange/`` (the callback's one-time code → token pair).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpResponseRedirect
from django.urls import reverse
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from django_redis_auth.accounts.views import SIGN_IN_ANSWERS, sign_in_answer
from django_redis_auth.api import BaseAPIView, PublicAPIView
from django_redis_auth.authentication import RedisJWTAuthentication
from django_redis_auth.clients import client_of
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import (
    ACCESS_DENIED,
    GOOGLE_ADDRESS_INVALID,
    AccountExists,
    AuthUnavailable,
    InvalidCode,
    InvalidCredentials,
    InvalidSocialToken,
    InvalidState,
    LastSignInMethod,
    NotLinked,
    ProviderNotConfigured,
    ProviderUnavailable,
    RateLimited,
    RedirectNotAllowed,
    SignInNotAllowed,
    SignupClosed,
    SocialEmailNotVerified,
    SocialEmailRefused,
)
from django_redis_auth.google import service as social
from django_redis_auth.google.serializers import (
    GoogleExchangeSerializer,
    GoogleSignInSerializer,
    GoogleStartSerializer,
)
from django_redis_auth.mfa import reauth

# Binds a started browser sign-in to the browser that started it (see social._take_state).
BINDING_COOKIE = "dra_google"


# What a Google sign-in can answer besides a token pair (schema declarations).
SIGN_IN_SUCCESS = SIGN_IN_ANSWERS
SIGN_IN_ERRORS = (
    ProviderNotConfigured,
    InvalidSocialToken,
    ACCESS_DENIED,
    InvalidCredentials,
    AccountExists,
    SocialEmailNotVerified,
    SocialEmailRefused,
    GOOGLE_ADDRESS_INVALID,
    SignupClosed,
    SignInNotAllowed,
    LastSignInMethod,
    InvalidState,
    ProviderUnavailable,
    RateLimited,
    AuthUnavailable,
)


class GoogleView(BaseAPIView):
    """POST: sign in with Google → token pair (or 202 challenge). DELETE (authenticated):
    unlink Google from the account (409 while it is the only way in)."""

    serializer_class = GoogleSignInSerializer
    response_serializer_class = SIGN_IN_SUCCESS
    errors = (*SIGN_IN_ERRORS, RedirectNotAllowed)
    delete_response_serializer_class = None
    delete_success_status = 204
    delete_errors = (
        ProviderNotConfigured,
        NotLinked,
        LastSignInMethod,
        *reauth.ERRORS,
        AuthUnavailable,
    )

    def get_authenticators(self) -> list[Any]:
        # Signing in needs no (and must not be blocked by a stale) bearer token.
        if self.request is not None and self.request.method == "DELETE":
            return [RedisJWTAuthentication()]
        return []

    def get_permissions(self) -> list[Any]:
        if self.request.method == "DELETE":
            return [IsAuthenticated()]
        return [AllowAny()]

    def get_authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'

    def post(self, request: Request) -> Response:
        data = self.validated()
        client = client_of(request)
        if data.get("id_token"):
            return sign_in_answer(social.sign_in_with_id_token(data["id_token"], client))
        if data.get("access_token"):
            return sign_in_answer(social.sign_in_with_access_token(data["access_token"], client))
        return sign_in_answer(
            social.sign_in_with_code(
                data["code"], data["code_verifier"], data["redirect_uri"], client
            )
        )

    def delete(self, request: Request) -> Response:
        reauth.require_recent_authentication(request)
        social.unlink(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _callback_url(request: Request) -> str:
    if auth_settings.GOOGLE_CALLBACK_URL:
        return str(auth_settings.GOOGLE_CALLBACK_URL)
    namespace = request.resolver_match.namespace if request.resolver_match else ""
    name = f"{namespace}:google-callback" if namespace else "google-callback"
    return request.build_absolute_uri(reverse(name))


def _binding_path(request: Request) -> str:
    """The cookie path covering both callback/ and exchange/ (the URLconf's google/ prefix),
    and nothing else of the site."""
    namespace = request.resolver_match.namespace if request.resolver_match else ""
    prefix = f"{namespace}:" if namespace else ""
    paths = [reverse(f"{prefix}google-exchange"), urlsplit(_callback_url(request)).path or "/"]
    common = os.path.commonpath(paths)
    return common if common.endswith("/") else common + "/"


class GoogleStartView(PublicAPIView):
    """GET ?next=<allow-listed URL> → 302 to Google's consent page."""

    serializer_class = GoogleStartSerializer
    query_serializer_class = GoogleStartSerializer
    success_status = 302
    errors = (ProviderNotConfigured, RedirectNotAllowed, AuthUnavailable)

    def get(self, request: Request) -> HttpResponseRedirect:
        serializer = self.get_serializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        callback = _callback_url(request)
        start = social.start_browser_sign_in(serializer.validated_data["next"], callback)
        response = HttpResponseRedirect(start.url)
        response.set_cookie(
            BINDING_COOKIE,
            start.binding,
            max_age=social.STATE_TTL,
            path=_binding_path(request),
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",  # sent on Google's top-level redirect back to the callback
        )
        return response


class GoogleCallbackView(PublicAPIView):
    """Google redirects here → 302 to ``next`` with ``#code=...`` (or ``#error=...``)."""

    serializer_class = None
    success_status = 302  # also for a failed sign-in: #error=<code> in the fragment
    errors = (ProviderNotConfigured, InvalidState, AuthUnavailable)

    def get(self, request: Request) -> HttpResponseRedirect:
        target = social.finish_browser_sign_in(
            request.query_params.dict(), request.COOKIES.get(BINDING_COOKIE)
        )
        # The cookie stays until exchange/: the code in the fragment needs it there too.
        return HttpResponseRedirect(target)


class GoogleExchangeView(PublicAPIView):
    """The callback's one-time code → token pair (or 202 challenge)."""

    serializer_class = GoogleExchangeSerializer
    response_serializer_class = SIGN_IN_SUCCESS
    errors = (ProviderNotConfigured, InvalidCode, InvalidCredentials, RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        binding = request.COOKIES.get(BINDING_COOKIE)
        result = social.exchange(self.validated()["code"], binding, client_of(request))
        response = sign_in_answer(result)
        response.delete_cookie(BINDING_COOKIE, path=_binding_path(request), samesite="Lax")
        return response

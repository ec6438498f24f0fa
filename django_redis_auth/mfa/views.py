"""The ``2fa/`` endpoints of authenticator apps and recovery codes: thin HTTP over
:mod:`.totp`, :mod:`.recovery` and :mod:`.factors`. Changes need recent authentication
(:func:`.reauth.require_recent_authentication`), except confirming a setup, which the
pending secret proves."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework.response import Response

from django_redis_auth.accounts import users, users_cache
from django_redis_auth.api import AuthenticatedAPIView, accepted
from django_redis_auth.clients import client_of
from django_redis_auth.exceptions import (
    AuthUnavailable,
    InvalidCode,
    LoginThrottled,
    RateLimited,
    TooManyAttempts,
    UserInactive,
    WrongPassword,
)
from django_redis_auth.mfa import factors, reauth, recovery, totp
from django_redis_auth.mfa.exceptions import (
    ChallengeExpired,
    FactorRequired,
    InvalidCredential,
    MethodNotAvailable,
    TOTPAlreadyEnabled,
    TOTPNotEnabled,
    TOTPSetupExpired,
    TOTPThrottled,
)
from django_redis_auth.mfa.serializers import (
    FactorsSerializer,
    ReauthenticatedSerializer,
    ReauthSerializer,
    RecoveryCodesPairSerializer,
    TOTPSetupSerializer,
)
from django_redis_auth.serializers import CodeSerializer, DetailSerializer, TokenPairSerializer

#: What the sensitive endpoints below may answer besides their own errors.
REAUTH_ERRORS: tuple[type[Exception], ...] = reauth.ERRORS
REAUTH_CODE_SENT = _("We sent a code to your address. Enter it to confirm it is you.")


def _row(request: Request) -> Any:
    """The caller's current row (``request.user`` is the cached snapshot)."""
    row = users_cache.load_from_db(users.user_id_of(request.user))
    if row is None or not users.is_active(row):
        raise UserInactive()
    return row


class FactorsView(AuthenticatedAPIView):
    """→ ``{"methods": [...], "recovery_codes_left": n}``."""

    serializer_class = None
    response_serializer_class = FactorsSerializer
    errors = (AuthUnavailable,)

    def get(self, request: Request) -> Response:
        found = factors.of(request.user)
        return Response({"methods": found.methods, "recovery_codes_left": found.recovery_codes})


class TOTPSetupView(AuthenticatedAPIView):
    """→ secret, otpauth URI and QR code of a new authenticator, pending 10 minutes."""

    serializer_class = None
    response_serializer_class = TOTPSetupSerializer
    errors = (TOTPAlreadyEnabled, *REAUTH_ERRORS, AuthUnavailable)

    def post(self, request: Request) -> Response:
        reauth.require_recent_authentication(request)
        return Response(totp.start_setup(_row(request)).as_dict())


class TOTPConfirmView(AuthenticatedAPIView):
    """code → recovery codes + a fresh pair; the authenticator is on."""

    serializer_class = CodeSerializer
    response_serializer_class = RecoveryCodesPairSerializer
    errors = (InvalidCode, TooManyAttempts, TOTPSetupExpired, TOTPAlreadyEnabled, AuthUnavailable)

    def post(self, request: Request) -> Response:
        code = self.validated()["code"]
        enabled = totp.confirm_setup(
            _row(request), code, client=client_of(request), current_session=request.auth
        )
        return Response(enabled.as_dict())


class TOTPDisableView(AuthenticatedAPIView):
    """→ a fresh pair; the authenticator (and, with no factor left, the codes) is gone."""

    serializer_class = None
    response_serializer_class = TokenPairSerializer
    errors = (TOTPNotEnabled, *REAUTH_ERRORS, AuthUnavailable)

    def post(self, request: Request) -> Response:
        reauth.require_recent_authentication(request)
        pair = totp.disable(_row(request), client=client_of(request), current_session=request.auth)
        return Response(pair.as_dict())


class RecoveryCodesView(AuthenticatedAPIView):
    """→ a new set of recovery codes (the old set dies) + a fresh pair."""

    serializer_class = None
    response_serializer_class = RecoveryCodesPairSerializer
    errors = (FactorRequired, *REAUTH_ERRORS, AuthUnavailable)

    def post(self, request: Request) -> Response:
        reauth.require_recent_authentication(request)
        codes, pair = recovery.regenerate(
            _row(request), client=client_of(request), current_session=request.auth
        )
        return Response({"recovery_codes": codes, **pair.as_dict()})


class ReauthView(AuthenticatedAPIView):
    """password, or code (+ method), or credential → this session counts as recently
    authenticated for ``REAUTH_WINDOW``. ``method: "email"`` without a code mails one (202)."""

    serializer_class = ReauthSerializer
    response_serializer_class = {200: ReauthenticatedSerializer, 202: DetailSerializer}
    errors = (
        MethodNotAvailable,
        WrongPassword,
        InvalidCredential,
        ChallengeExpired,
        InvalidCode,
        TooManyAttempts,
        TOTPThrottled,
        LoginThrottled,
        RateLimited,
        AuthUnavailable,
    )

    def post(self, request: Request) -> Response:
        data = self.validated()
        until = reauth.reauthenticate(
            request,
            _row(request),
            client_of(request),
            method=data.get("method"),
            password=data.get("password"),
            code=data.get("code"),
            credential=data.get("credential"),
        )
        if until is None:
            return accepted(REAUTH_CODE_SENT)
        return Response({"reauthenticated_until": until})

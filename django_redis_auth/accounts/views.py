"""Sign-up, sign-in, codes, password reset and account self-service: thin HTTP over
:mod:`django_redis_auth.accounts.flows` and :mod:`django_redis_auth.accounts.selfservice`.

The 202 answers are constants: the body must not differ between known and unknown addresses,
so it cannot depend on anything the flow found out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from django_redis_auth import activity
from django_redis_auth.accounts import code_signin, flows, users
from django_redis_auth.accounts import selfservice as account
from django_redis_auth.accounts.serializers import (
    AccountDeleteSerializer,
    ActivityEventSerializer,
    ActivityQuerySerializer,
    ChallengeCodeSerializer,
    EmailChangeConfirmSerializer,
    EmailChangeSerializer,
    EmailCodeSerializer,
    EmailSerializer,
    LoginChallengeSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    RequestCodeSerializer,
    SecondFactorSerializer,
    SignupSerializer,
    TrustedPairSerializer,
)
from django_redis_auth.api import AuthenticatedAPIView, PublicAPIView, accepted
from django_redis_auth.clients import client_of
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import (
    AuthUnavailable,
    EmailNotVerified,
    EmailTaken,
    EmailUnchanged,
    InvalidCode,
    InvalidCredentials,
    LoginByCodeDisabled,
    LoginThrottled,
    MethodNotAvailable,
    PasswordInvalid,
    PasswordRequired,
    RateLimited,
    SecondFactorAlreadyOn,
    SecondFactorRequired,
    SecondFactorUnavailable,
    TooManyAttempts,
    TOTPThrottled,
    WrongPassword,
)
from django_redis_auth.mfa import reauth
from django_redis_auth.mfa.exceptions import ChallengeExpired, InvalidCredential
from django_redis_auth.serializers import (
    CodeSerializer,
    DetailSerializer,
    PasswordSerializer,
    TokenPairSerializer,
)
from django_redis_auth.tokens.issuing import TokenPair

SIGNUP_ACCEPTED = _("If this address can be used, we sent it an email. Check your inbox.")


CODE_ACCEPTED = _("If this address has an account, we sent it a code. Check your inbox.")


PASSWORD_CHANGED = _("Your password was changed. Every device was signed out.")


CODE_SENT = _("We sent a code to your email address. Check your inbox.")


# The same whether or not another account has the new address (enumeration safety).
EMAIL_CHANGE_ACCEPTED = _(
    "If this address can be used, we sent it a code. Enter it to finish the change."
)


#: What a sign-in answers (login/, google/): a token pair, or a second-factor challenge.
SIGN_IN_ANSWERS = {200: TokenPairSerializer, 202: LoginChallengeSerializer}


def sign_in_answer(result: TokenPair | flows.Challenge) -> Response:
    """200 with the pair, or 202 with the challenge ``login/verify/`` finishes."""
    if isinstance(result, flows.Challenge):
        return Response(result.as_dict(), status=status.HTTP_202_ACCEPTED)
    return Response(result.as_dict())


class SignupView(PublicAPIView):
    """email + password → 202, the same for new and taken addresses."""

    serializer_class = SignupSerializer
    response_serializer_class = DetailSerializer
    success_status = 202
    errors = (PasswordInvalid, RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated()
        flows.signup(data["email"], data["password"], client_of(request))
        return accepted(SIGNUP_ACCEPTED)


class EmailVerifyView(PublicAPIView):
    """Verifies the address with the emailed code and signs the user in: the answer is a token
    pair, a new session (listed in ``sessions/``). A client has no need to call ``login/``
    after it; doing so opens a second session."""

    serializer_class = EmailCodeSerializer
    response_serializer_class = TokenPairSerializer
    errors = (InvalidCode, TooManyAttempts, RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated()
        pair = flows.verify_email(data["email"], data["code"], client_of(request))
        return Response(pair.as_dict())


class LoginCodeView(PublicAPIView):
    """email → 202; a sign-in code is mailed if the address may sign in this way."""

    serializer_class = EmailSerializer
    response_serializer_class = DetailSerializer
    success_status = 202
    errors = (LoginByCodeDisabled, RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        code_signin.request(self.validated()["email"], client_of(request))
        return accepted(CODE_ACCEPTED)


class LoginCodeConfirmView(PublicAPIView):
    """email + code → token pair, or the second-step challenge (202)."""

    serializer_class = EmailCodeSerializer
    response_serializer_class = SIGN_IN_ANSWERS
    errors = (LoginByCodeDisabled, InvalidCode, TooManyAttempts, RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated()
        return sign_in_answer(code_signin.confirm(data["email"], data["code"], client_of(request)))


class LoginVerifyView(PublicAPIView):
    """challenge (from login/'s 202) + code → token pair."""

    serializer_class = ChallengeCodeSerializer
    response_serializer_class = TrustedPairSerializer
    errors = (
        InvalidCode,
        TooManyAttempts,
        MethodNotAvailable,
        InvalidCredential,
        ChallengeExpired,
        TOTPThrottled,
        RateLimited,
        AuthUnavailable,
    )

    def post(self, request: Request) -> Response:
        data = self.validated()
        pair = flows.verify_login(
            data["challenge"],
            data.get("code") or "",
            client_of(request),
            method=data.get("method"),
            trust_device=data["trust_device"],
            credential=data.get("credential"),
        )
        return Response(pair.as_dict())


class RequestCodeView(PublicAPIView):
    """email + purpose (+ challenge for login) → 202, or 429 + Retry-After."""

    serializer_class = RequestCodeSerializer
    response_serializer_class = DetailSerializer
    success_status = 202
    errors = (RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated()
        flows.request_code(
            data["email"], data["purpose"], client_of(request), challenge=data.get("challenge")
        )
        return accepted(CODE_ACCEPTED)


class PasswordResetView(PublicAPIView):
    """email → 202 whether or not the account exists."""

    serializer_class = EmailSerializer
    response_serializer_class = DetailSerializer
    success_status = 202
    errors = (RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        flows.request_password_reset(self.validated()["email"], client_of(request))
        return accepted(CODE_ACCEPTED)


class PasswordResetConfirmView(PublicAPIView):
    """email + code + new_password → 200; every session of the user is revoked."""

    serializer_class = PasswordResetConfirmSerializer
    response_serializer_class = DetailSerializer
    errors = (InvalidCode, TooManyAttempts, PasswordInvalid, RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated()
        flows.confirm_password_reset(
            data["email"], data["code"], data["new_password"], client_of(request)
        )
        return Response({"detail": str(PASSWORD_CHANGED)})


class PasswordChangeView(AuthenticatedAPIView):
    """current_password + new_password → a fresh pair; every other session ends."""

    serializer_class = PasswordChangeSerializer
    response_serializer_class = TokenPairSerializer
    errors = (WrongPassword, PasswordInvalid, LoginThrottled, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated()
        pair = account.change_password(
            request.user, data["current_password"], data["new_password"], client_of(request)
        )
        return Response(pair.as_dict())


class SecondFactorEnableView(AuthenticatedAPIView):
    """→ 202; a code goes to the account's address."""

    serializer_class = None
    response_serializer_class = DetailSerializer
    success_status = 202
    errors = (
        SecondFactorUnavailable,
        SecondFactorAlreadyOn,
        *reauth.ERRORS,
        RateLimited,
        AuthUnavailable,
    )

    def post(self, request: Request) -> Response:
        reauth.require_recent_authentication(request)
        account.request_second_factor(request.user, client_of(request))
        return accepted(CODE_SENT)


class SecondFactorConfirmView(AuthenticatedAPIView):
    """code → ``{"otp_required": true}``."""

    serializer_class = CodeSerializer
    response_serializer_class = SecondFactorSerializer
    errors = (
        InvalidCode,
        TooManyAttempts,
        SecondFactorUnavailable,
        SecondFactorAlreadyOn,
        RateLimited,
        AuthUnavailable,
    )

    def post(self, request: Request) -> Response:
        enabled = account.confirm_second_factor(
            request.user, self.validated()["code"], client_of(request)
        )
        return Response({"otp_required": enabled})


class SecondFactorDisableView(AuthenticatedAPIView):
    """password → ``{"otp_required": false}``."""

    serializer_class = PasswordSerializer
    response_serializer_class = SecondFactorSerializer
    errors = (WrongPassword, SecondFactorRequired, LoginThrottled, AuthUnavailable)

    def post(self, request: Request) -> Response:
        enabled = account.disable_second_factor(
            request.user, self.validated()["password"], client_of(request)
        )
        return Response({"otp_required": enabled})


class EmailChangeView(AuthenticatedAPIView):
    """new_email + password → 202, the same whether or not the address is taken."""

    serializer_class = EmailChangeSerializer
    response_serializer_class = DetailSerializer
    success_status = 202
    errors = (WrongPassword, EmailUnchanged, LoginThrottled, RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated()
        account.request_email_change(
            request.user, data["new_email"], data["password"], client_of(request)
        )
        return accepted(EMAIL_CHANGE_ACCEPTED)


class EmailChangeConfirmView(AuthenticatedAPIView):
    """new_email + code → a fresh pair; the address is changed and verified."""

    serializer_class = EmailChangeConfirmSerializer
    response_serializer_class = TokenPairSerializer
    errors = (InvalidCode, TooManyAttempts, EmailTaken, RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated()
        pair = account.confirm_email_change(
            request.user, data["new_email"], data["code"], client_of(request)
        )
        return Response(pair.as_dict())


class AccountDeleteView(AuthenticatedAPIView):
    """password (or code) → 204; an account without a password gets its code first (202)."""

    serializer_class = AccountDeleteSerializer
    response_serializer_class = {202: DetailSerializer, 204: None}
    errors = (
        WrongPassword,
        PasswordRequired,
        InvalidCode,
        TooManyAttempts,
        LoginThrottled,
        RateLimited,
        AuthUnavailable,
    )

    def post(self, request: Request) -> Response:
        data = self.validated()
        outcome = account.delete_account(
            request.user, data.get("password"), data.get("code"), client_of(request)
        )
        if outcome is account.Deletion.CODE_SENT:
            return accepted(CODE_SENT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LoginView(PublicAPIView):
    """Email + password → token pair, or a second-factor challenge (202)."""

    serializer_class = LoginSerializer
    response_serializer_class = SIGN_IN_ANSWERS
    errors = (InvalidCredentials, EmailNotVerified, LoginThrottled, RateLimited, AuthUnavailable)

    def post(self, request: Request) -> Response:
        data = self.validated()
        answer = flows.login(
            data["email"],
            data["password"],
            client_of(request),
            device_token=data.get("device_token"),
        )
        return sign_in_answer(answer)


class MeView(AuthenticatedAPIView):
    """The signed-in user, from the user cache (``USER_SERIALIZER`` decides the shape)."""

    errors = (AuthUnavailable,)

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


class ActivityView(AuthenticatedAPIView):
    """The account's security activity, newest first; ``Link: <…?before=…>; rel="next"``
    names the next page."""

    serializer_class = None
    query_serializer_class = ActivityQuerySerializer
    response_serializer_class = ActivityEventSerializer(many=True)
    errors = (AuthUnavailable,)

    def get(self, request: Request) -> Response:
        query = ActivityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        events, cursor = activity.recent(
            users.user_id_of(request.user),
            before=query.validated_data.get("before"),
            limit=query.validated_data["limit"],
        )
        body = [{k: v for k, v in e.as_dict().items() if k != "id"} for e in events]
        response = Response(ActivityEventSerializer(body, many=True).data)
        if cursor:
            page = urlencode({"before": cursor, "limit": query.validated_data["limit"]})
            url = request.build_absolute_uri(f"{request.path}?{page}")
            response["Link"] = f'<{url}>; rel="next"'
        return response

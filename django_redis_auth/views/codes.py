"""Email-code endpoints: thin HTTP over :mod:`django_redis_auth.flows`.

The 202 answers are constants: the body must not differ between known and unknown
addresses, so it cannot depend on anything the flow found out.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from .. import flows
from ..clients import client_of
from ..serializers import (
    ChallengeCodeSerializer,
    EmailCodeSerializer,
    EmailSerializer,
    PasswordResetConfirmSerializer,
    RequestCodeSerializer,
    SignupSerializer,
)
from .base import PublicAPIView

SIGNUP_ACCEPTED = _("If this address can be used, we sent it an email. Check your inbox.")
CODE_ACCEPTED = _("If this address has an account, we sent it a code. Check your inbox.")
PASSWORD_CHANGED = _("Your password was changed. Every device was signed out.")


def _accepted(detail: object) -> Response:
    return Response({"detail": str(detail)}, status=status.HTTP_202_ACCEPTED)


class SignupView(PublicAPIView):
    """email + password → 202, the same for new and taken addresses."""

    serializer_class = SignupSerializer

    def post(self, request: Request) -> Response:
        data = self.validated()
        flows.signup(data["email"], data["password"], client_of(request))
        return _accepted(SIGNUP_ACCEPTED)


class EmailVerifyView(PublicAPIView):
    """email + code → token pair; the address is verified."""

    serializer_class = EmailCodeSerializer

    def post(self, request: Request) -> Response:
        data = self.validated()
        pair = flows.verify_email(data["email"], data["code"], client_of(request))
        return Response(pair.as_dict())


class LoginVerifyView(PublicAPIView):
    """challenge (from login/'s 202) + code → token pair."""

    serializer_class = ChallengeCodeSerializer

    def post(self, request: Request) -> Response:
        data = self.validated()
        pair = flows.verify_login(data["challenge"], data["code"], client_of(request))
        return Response(pair.as_dict())


class RequestCodeView(PublicAPIView):
    """email + purpose (+ challenge for login) → 202, or 429 + Retry-After."""

    serializer_class = RequestCodeSerializer

    def post(self, request: Request) -> Response:
        data = self.validated()
        flows.request_code(
            data["email"], data["purpose"], client_of(request), challenge=data.get("challenge")
        )
        return _accepted(CODE_ACCEPTED)


class PasswordResetView(PublicAPIView):
    """email → 202 whether or not the account exists."""

    serializer_class = EmailSerializer

    def post(self, request: Request) -> Response:
        flows.request_password_reset(self.validated()["email"], client_of(request))
        return _accepted(CODE_ACCEPTED)


class PasswordResetConfirmView(PublicAPIView):
    """email + code + new_password → 200; every session of the user is revoked."""

    serializer_class = PasswordResetConfirmSerializer

    def post(self, request: Request) -> Response:
        data = self.validated()
        flows.confirm_password_reset(
            data["email"], data["code"], data["new_password"], client_of(request)
        )
        return Response({"detail": str(PASSWORD_CHANGED)})

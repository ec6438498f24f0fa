"""Account self-service for the signed-in user: thin HTTP over
:mod:`django_redis_auth.account`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from .. import account
from ..clients import client_of
from ..serializers import (
    AccountDeleteSerializer,
    CodeSerializer,
    EmailChangeConfirmSerializer,
    EmailChangeSerializer,
    PasswordChangeSerializer,
    PasswordSerializer,
)
from .base import AuthenticatedAPIView

CODE_SENT = _("We sent a code to your email address. Check your inbox.")
# The same whether or not another account has the new address (enumeration safety).
EMAIL_CHANGE_ACCEPTED = _(
    "If this address can be used, we sent it a code. Enter it to finish the change."
)


def _accepted(detail: object) -> Response:
    return Response({"detail": str(detail)}, status=status.HTTP_202_ACCEPTED)


class PasswordChangeView(AuthenticatedAPIView):
    """current_password + new_password → a fresh pair; every other session ends."""

    serializer_class = PasswordChangeSerializer

    def post(self, request: Request) -> Response:
        data = self.validated()
        pair = account.change_password(
            request.user, data["current_password"], data["new_password"], client_of(request)
        )
        return Response(pair.as_dict())


class SecondFactorEnableView(AuthenticatedAPIView):
    """→ 202; a code goes to the account's address."""

    serializer_class = None

    def post(self, request: Request) -> Response:
        account.request_second_factor(request.user, client_of(request))
        return _accepted(CODE_SENT)


class SecondFactorConfirmView(AuthenticatedAPIView):
    """code → ``{"otp_required": true}``."""

    serializer_class = CodeSerializer

    def post(self, request: Request) -> Response:
        enabled = account.confirm_second_factor(
            request.user, self.validated()["code"], client_of(request)
        )
        return Response({"otp_required": enabled})


class SecondFactorDisableView(AuthenticatedAPIView):
    """password → ``{"otp_required": false}``."""

    serializer_class = PasswordSerializer

    def post(self, request: Request) -> Response:
        enabled = account.disable_second_factor(
            request.user, self.validated()["password"], client_of(request)
        )
        return Response({"otp_required": enabled})


class EmailChangeView(AuthenticatedAPIView):
    """new_email + password → 202, the same whether or not the address is taken."""

    serializer_class = EmailChangeSerializer

    def post(self, request: Request) -> Response:
        data = self.validated()
        account.request_email_change(
            request.user, data["new_email"], data["password"], client_of(request)
        )
        return _accepted(EMAIL_CHANGE_ACCEPTED)


class EmailChangeConfirmView(AuthenticatedAPIView):
    """new_email + code → a fresh pair; the address is changed and verified."""

    serializer_class = EmailChangeConfirmSerializer

    def post(self, request: Request) -> Response:
        data = self.validated()
        pair = account.confirm_email_change(
            request.user, data["new_email"], data["code"], client_of(request)
        )
        return Response(pair.as_dict())


class AccountDeleteView(AuthenticatedAPIView):
    """password (or code) → 204; an account without a password gets its code first (202)."""

    serializer_class = AccountDeleteSerializer

    def post(self, request: Request) -> Response:
        data = self.validated()
        outcome = account.delete_account(
            request.user, data.get("password"), data.get("code"), client_of(request)
        )
        if outcome is account.Deletion.CODE_SENT:
            return _accepted(CODE_SENT)
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Placeholder: the OTP views land with the email-code issue."""

from .base import PublicAPIView


class SignupView(PublicAPIView):
    pass


class EmailVerifyView(PublicAPIView):
    pass


class LoginVerifyView(PublicAPIView):
    pass


class RequestCodeView(PublicAPIView):
    pass


class PasswordResetView(PublicAPIView):
    pass


class PasswordResetConfirmView(PublicAPIView):
    pass

from .codes import (
    EmailVerifyView,
    LoginVerifyView,
    PasswordResetConfirmView,
    PasswordResetView,
    RequestCodeView,
    SignupView,
)
from .sessions import LoginView, LogoutAllView, LogoutView, MeView, TokenRefreshView

__all__ = [
    "EmailVerifyView",
    "LoginVerifyView",
    "LoginView",
    "LogoutAllView",
    "LogoutView",
    "MeView",
    "PasswordResetConfirmView",
    "PasswordResetView",
    "RequestCodeView",
    "SignupView",
    "TokenRefreshView",
]

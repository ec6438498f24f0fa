from .account import (
    AccountDeleteView,
    EmailChangeConfirmView,
    EmailChangeView,
    PasswordChangeView,
    SecondFactorConfirmView,
    SecondFactorDisableView,
    SecondFactorEnableView,
)
from .codes import (
    EmailVerifyView,
    LoginVerifyView,
    PasswordResetConfirmView,
    PasswordResetView,
    RequestCodeView,
    SignupView,
)
from .devices import DeviceListView, DeviceView, RevokeOtherDevicesView
from .sessions import LoginView, LogoutAllView, LogoutView, MeView, TokenRefreshView

__all__ = [
    "AccountDeleteView",
    "DeviceListView",
    "DeviceView",
    "EmailChangeConfirmView",
    "EmailChangeView",
    "EmailVerifyView",
    "LoginVerifyView",
    "LoginView",
    "LogoutAllView",
    "LogoutView",
    "MeView",
    "PasswordChangeView",
    "PasswordResetConfirmView",
    "PasswordResetView",
    "RequestCodeView",
    "RevokeOtherDevicesView",
    "SecondFactorConfirmView",
    "SecondFactorDisableView",
    "SecondFactorEnableView",
    "SignupView",
    "TokenRefreshView",
]

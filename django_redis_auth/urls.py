from django.urls import path

from . import views
from .views import google

app_name = "django_redis_auth"

urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("email/verify/", views.EmailVerifyView.as_view(), name="email-verify"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.LoginVerifyView.as_view(), name="login-verify"),
    path("otp/", views.RequestCodeView.as_view(), name="otp"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password/reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("logout/all/", views.LogoutAllView.as_view(), name="logout-all"),
    path("me/", views.MeView.as_view(), name="me"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password-change"),
    path("2fa/email/enable/", views.SecondFactorEnableView.as_view(), name="2fa-enable"),
    path("2fa/email/confirm/", views.SecondFactorConfirmView.as_view(), name="2fa-confirm"),
    path("2fa/email/disable/", views.SecondFactorDisableView.as_view(), name="2fa-disable"),
    path("sessions/", views.DeviceListView.as_view(), name="sessions"),
    path(
        "sessions/revoke-others/",
        views.RevokeOtherDevicesView.as_view(),
        name="sessions-revoke-others",
    ),
    path("sessions/<str:session_id>/", views.DeviceView.as_view(), name="session"),
    path("email/change/", views.EmailChangeView.as_view(), name="email-change"),
    path(
        "email/change/confirm/",
        views.EmailChangeConfirmView.as_view(),
        name="email-change-confirm",
    ),
    path("account/delete/", views.AccountDeleteView.as_view(), name="account-delete"),
    path("google/", google.GoogleView.as_view(), name="google"),
    path("google/start/", google.GoogleStartView.as_view(), name="google-start"),
    path("google/callback/", google.GoogleCallbackView.as_view(), name="google-callback"),
    path("google/exchange/", google.GoogleExchangeView.as_view(), name="google-exchange"),
]

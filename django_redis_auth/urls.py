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
    path("google/", google.GoogleView.as_view(), name="google"),
    path("google/start/", google.GoogleStartView.as_view(), name="google-start"),
    path("google/callback/", google.GoogleCallbackView.as_view(), name="google-callback"),
    path("google/exchange/", google.GoogleExchangeView.as_view(), name="google-exchange"),
]

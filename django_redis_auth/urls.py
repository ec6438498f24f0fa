"""The package's URLconf: ``path("auth/", include("django_redis_auth.urls"))``.

Every endpoint ends in a slash, and also answers without it: a client that posts to
``login`` is dispatched to ``login/`` directly. Django's own remedy, ``APPEND_SLASH``, is a
301 that turns the POST into a GET and drops its body (and with ``DEBUG`` on a ``RuntimeError``
page). Any other path under the mount answers a JSON 404, never an HTML page.
"""

from django.urls import path, re_path

from django_redis_auth import api
from django_redis_auth.accounts import views as accounts
from django_redis_auth.fleet import views as fleet
from django_redis_auth.google import views as google
from django_redis_auth.mfa import passkey_views as passkeys
from django_redis_auth.mfa import views as mfa
from django_redis_auth.tokens import views as tokens

app_name = "django_redis_auth"

urlpatterns = [
    path("signup/", accounts.SignupView.as_view(), name="signup"),
    path("email/verify/", accounts.EmailVerifyView.as_view(), name="email-verify"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("login/verify/", accounts.LoginVerifyView.as_view(), name="login-verify"),
    path("login/code/", accounts.LoginCodeView.as_view(), name="login-code"),
    path("login/code/confirm/", accounts.LoginCodeConfirmView.as_view(), name="login-code-confirm"),
    path("otp/", accounts.RequestCodeView.as_view(), name="otp"),
    path("password/reset/", accounts.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password/reset/confirm/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("token/refresh/", tokens.TokenRefreshView.as_view(), name="token-refresh"),
    path("logout/", tokens.LogoutView.as_view(), name="logout"),
    path("logout/all/", tokens.LogoutAllView.as_view(), name="logout-all"),
    path("me/", accounts.MeView.as_view(), name="me"),
    path("password/change/", accounts.PasswordChangeView.as_view(), name="password-change"),
    path("2fa/email/enable/", accounts.SecondFactorEnableView.as_view(), name="2fa-enable"),
    path("2fa/email/confirm/", accounts.SecondFactorConfirmView.as_view(), name="2fa-confirm"),
    path("2fa/email/disable/", accounts.SecondFactorDisableView.as_view(), name="2fa-disable"),
    path("2fa/", mfa.FactorsView.as_view(), name="2fa"),
    path("2fa/totp/setup/", mfa.TOTPSetupView.as_view(), name="2fa-totp-setup"),
    path("2fa/totp/confirm/", mfa.TOTPConfirmView.as_view(), name="2fa-totp-confirm"),
    path("2fa/totp/disable/", mfa.TOTPDisableView.as_view(), name="2fa-totp-disable"),
    path("2fa/recovery-codes/", mfa.RecoveryCodesView.as_view(), name="2fa-recovery-codes"),
    path("reauth/", mfa.ReauthView.as_view(), name="reauth"),
    path("passkeys/", passkeys.PasskeyListView.as_view(), name="passkeys"),
    path(
        "passkeys/register/options/",
        passkeys.RegisterOptionsView.as_view(),
        name="passkeys-register-options",
    ),
    path(
        "passkeys/login/options/",
        passkeys.LoginOptionsView.as_view(),
        name="passkeys-login-options",
    ),
    path("passkeys/login/", passkeys.LoginView.as_view(), name="passkeys-login"),
    path(
        "passkeys/reauth/options/",
        passkeys.ReauthOptionsView.as_view(),
        name="passkeys-reauth-options",
    ),
    path("passkeys/<str:passkey_id>/", passkeys.PasskeyView.as_view(), name="passkey"),
    path("sessions/", tokens.DeviceListView.as_view(), name="sessions"),
    path(
        "sessions/revoke-others/",
        tokens.RevokeOtherDevicesView.as_view(),
        name="sessions-revoke-others",
    ),
    path("sessions/<str:session_id>/", tokens.DeviceView.as_view(), name="session"),
    path("email/change/", accounts.EmailChangeView.as_view(), name="email-change"),
    path(
        "email/change/confirm/",
        accounts.EmailChangeConfirmView.as_view(),
        name="email-change-confirm",
    ),
    path("account/delete/", accounts.AccountDeleteView.as_view(), name="account-delete"),
    path("account/activity/", accounts.ActivityView.as_view(), name="account-activity"),
    path("google/", google.GoogleView.as_view(), name="google"),
    path("google/start/", google.GoogleStartView.as_view(), name="google-start"),
    path("google/callback/", google.GoogleCallbackView.as_view(), name="google-callback"),
    path("google/exchange/", google.GoogleExchangeView.as_view(), name="google-exchange"),
    path(".well-known/jwks.json", fleet.JWKSView.as_view(), name="jwks"),
    path("token/introspect/", fleet.IntrospectView.as_view(), name="token-introspect"),
    path("token/verify/", fleet.ForwardAuthView.as_view(), name="token-verify"),
]

urlpatterns += [
    # Last: only what matched nothing above.
    re_path(r"^(?P<path>.*[^/])$", api.without_slash),
    re_path(r"^", api.not_found),
]

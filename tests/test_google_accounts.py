"""Google sign-in and accounts: linking only on a Google-verified address, creation rules,
the second factor, unlinking, revocation, signals, the admin and configuration."""

from __future__ import annotations

import os
import sys

import pytest
from django.contrib.auth import get_user_model

from django_redis_auth import signals
from tests.google_fake import (
    google_settings,
)
from tests.helpers import error

pytestmark = pytest.mark.django_db
URL = "/auth/google/"


def post(api, token):
    return api.post(URL, {"id_token": token}, format="json")


@pytest.fixture
def caught():
    """``caught(signal)`` records the kwargs of every send of ``signal`` during the test."""
    connected = []

    def catch(signal):
        seen = []

        def receiver(sender, **kwargs):
            seen.append(kwargs)

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return seen

    yield catch
    for signal, receiver in connected:
        signal.disconnect(receiver)


# --- linking and creating -------------------------------------------------------------------


def test_existing_account_is_linked_when_google_verified_the_address(
    api, google, make_user, caught
):
    user = make_user(email="alice@example.com")
    linked = caught(signals.social_linked)
    # Another spelling of the same mailbox: the canonical form decides.
    response = post(api, google.id_token(google.profile(email="Alice@EXAMPLE.com")))
    assert response.status_code == 200, response.content
    assert get_user_model().objects.count() == 1
    user.refresh_from_db()
    assert user.social_auth.get().uid == "1001"
    assert user.has_usable_password()  # the owner's password still works
    assert [kw["user"].pk for kw in linked] == [user.pk]


def test_linking_a_never_verified_account_voids_its_password(api, google, make_user, password):
    """Pre-hijacking: someone signed up with the address first and chose the password; the
    mailbox was never proven. Google proves it now: the owner gets the account, verified,
    and the stranger's password (and its sessions) are gone."""
    make_user(email="alice@example.com", email_verified=False)
    assert (
        api.post(
            "/auth/login/", {"email": "alice@example.com", "password": password}, format="json"
        ).status_code
        == 401
    )  # unverified: refused like a wrong password
    response = post(api, google.id_token(google.profile(email="alice@example.com")))
    assert response.status_code == 200, response.content
    user = get_user_model().objects.get()
    assert user.email_verified is True  # Google's word verified the mailbox
    assert not user.has_usable_password()
    again = api.post(
        "/auth/login/", {"email": "alice@example.com", "password": password}, format="json"
    )
    assert again.status_code == 401


def test_a_link_stored_under_the_address_is_not_a_way_in(api, google, make_user):
    """social-core's legacy uid is the address: an unverified Google account claiming it
    must not sign in to the account such a link points at (links are found by sub only)."""
    from social_django.models import UserSocialAuth

    victim = make_user(email="alice@example.com")
    UserSocialAuth.objects.create(user=victim, provider="google-oauth2", uid="alice@example.com")
    claim = google.profile(sub="6666", email="alice@example.com", email_verified=False)
    error(post(api, google.id_token(claim)), 409, "account_exists")


def test_unverified_google_address_is_never_linked(api, google, make_user):
    user = make_user(email="alice@example.com")
    body = error(
        post(api, google.id_token(google.profile(email_verified=False))), 409, "account_exists"
    )
    assert "password" in body["detail"]
    assert not user.social_auth.exists()


def test_unverified_google_address_creates_no_account(api, google):
    response = post(api, google.id_token(google.profile(email_verified=False)))
    error(response, 403, "social_email_not_verified")
    assert not get_user_model().objects.exists()


def test_unverified_address_still_signs_in_to_the_account_linked_to_its_google_id(api, google):
    assert post(api, google.id_token()).status_code == 200
    # Later Google reports the address unverified: the link is by Google id, not by address.
    assert post(api, google.id_token(google.profile(email_verified=False))).status_code == 200


def test_access_token_flow_refuses_an_unverified_link_too(api, google, make_user):
    make_user(email="alice@example.com")
    token = google.access_token(google.profile(email_verified=False))
    response = api.post(URL, {"access_token": token}, format="json")
    error(response, 409, "account_exists")


def test_sign_up_by_google_can_be_closed(api, google, settings, make_user):
    settings.DJANGO_REDIS_AUTH = google_settings(GOOGLE_CREATE_USERS=False)
    error(post(api, google.id_token()), 403, "signup_closed")
    assert not get_user_model().objects.exists()
    make_user(email="alice@example.com")
    assert post(api, google.id_token()).status_code == 200  # linking still works


def test_inactive_accounts_do_not_sign_in(api, google, make_user):
    user = make_user(email="alice@example.com", is_active=False)
    error(post(api, google.id_token()), 401, "invalid_credentials")
    assert not user.social_auth.exists()


def test_deactivated_linked_account_does_not_sign_in(api, google):
    assert post(api, google.id_token()).status_code == 200
    get_user_model().objects.update(is_active=False)
    error(post(api, google.id_token()), 401, "invalid_credentials")


def test_address_this_site_refuses(api, google):
    profile = google.profile(email="ålice@example.com")
    error(post(api, google.id_token(profile)), 403, "email_not_allowed")


def test_allowed_domains_of_social_auth_apply(api, google, settings):
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_WHITELISTED_DOMAINS = ["corp.example"]
    error(post(api, google.id_token()), 403, "sign_in_not_allowed")
    profile = google.profile(sub="2", email="bob@corp.example")
    assert post(api, google.id_token(profile)).status_code == 200


def test_custom_pipeline_step_runs(api, google, settings):
    from django_redis_auth.google import service as social

    settings.DJANGO_REDIS_AUTH = google_settings(
        GOOGLE_PIPELINE=(*social.DEFAULT_PIPELINE, "tests.test_google_accounts.mark_staff")
    )
    assert post(api, google.id_token()).status_code == 200
    assert get_user_model().objects.get().is_staff is True


def mark_staff(user=None, is_new=False, **kwargs):
    """A project's own step: a user-creation hook."""
    if user is not None and is_new:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


# --- second factor --------------------------------------------------------------------------


def test_second_factor_user_gets_the_same_challenge_as_login(api, google, make_user, mailoutbox):
    make_user(email="alice@example.com", otp_required=True)
    response = post(api, google.id_token())
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["otp_required"] is True
    code = next(line for line in mailoutbox[-1].body.split() if line.isdigit())
    verified = api.post(
        "/auth/login/verify/", {"challenge": body["challenge"], "code": code}, format="json"
    )
    assert verified.status_code == 200, verified.content


def test_second_factor_required_for_everyone_applies_to_new_google_users(api, google, settings):
    settings.DJANGO_REDIS_AUTH = google_settings(SECOND_FACTOR="required")
    assert post(api, google.id_token()).status_code == 202


def test_google_may_count_as_the_second_factor(api, google, make_user, settings):
    make_user(email="alice@example.com", otp_required=True)
    settings.DJANGO_REDIS_AUTH = google_settings(GOOGLE_SATISFIES_SECOND_FACTOR=True)
    assert post(api, google.id_token()).status_code == 200


# --- revocation -----------------------------------------------------------------------------


def test_a_google_session_is_revoked_by_logout_all(api, google, bearer):
    first = post(api, google.id_token()).json()
    second = post(api, google.id_token()).json()
    assert bearer(first["access"]).post("/auth/logout/all/").status_code == 204
    for pair in (first, second):
        me = bearer(pair["access"]).get("/auth/me/")
        assert me.status_code == 401
        refreshed = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
        assert refreshed.status_code == 401


def test_a_google_session_is_revoked_by_logout(api, google, bearer):
    pair = post(api, google.id_token()).json()
    client = bearer(pair["access"])
    assert (
        client.post("/auth/logout/", {"refresh": pair["refresh"]}, format="json").status_code == 204
    )
    assert client.get("/auth/me/").status_code == 401


# --- unlinking ------------------------------------------------------------------------------


def test_unlink_is_refused_while_google_is_the_only_way_in(api, google, bearer):
    pair = post(api, google.id_token()).json()
    response = bearer(pair["access"]).delete(URL)
    error(response, 409, "last_sign_in_method")
    assert get_user_model().objects.get().social_auth.exists()


def test_unlink_with_a_password(api, google, bearer, make_user, caught):
    user = make_user(email="alice@example.com")
    unlinked = caught(signals.social_unlinked)
    pair = post(api, google.id_token()).json()
    assert bearer(pair["access"]).delete(URL).status_code == 204
    assert not user.social_auth.exists()
    assert [kw["user"].pk for kw in unlinked] == [user.pk]
    # Unlinked: the same Google account links again on the next sign-in (verified address).
    assert post(api, google.id_token()).status_code == 200


def test_unlink_when_not_linked(api, google, make_user, login, bearer):
    make_user(email="alice@example.com")
    pair = login()
    error(bearer(pair["access"]).delete(URL), 404, "not_linked")


def test_unlink_needs_authentication(api, google):
    error(api.delete(URL), 401, "not_authenticated")


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/auth/google/", "/auth/google/start/?next=/", "/auth/google/callback/"]
)
def test_without_keys_google_is_not_configured(api, path):
    response = api.post(path, {"id_token": "x"}, format="json") if path == URL else api.get(path)
    error(response, 404, "provider_not_configured")


def test_exchange_without_keys_is_not_configured(api):
    error(
        api.post("/auth/google/exchange/", {"code": "x"}, format="json"),
        404,
        "provider_not_configured",
    )


def test_without_the_extra_google_is_not_configured(api, google, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.oauth2.id_token", None)
    error(post(api, google.id_token()), 404, "provider_not_configured")


def test_mobile_only_configuration_needs_no_web_client(api, google, settings):
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = ""
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = ""
    from tests.google_fake import IOS_CLIENT_ID

    assert post(api, google.id_token(aud=IOS_CLIENT_ID)).status_code == 200
    error(api.get("/auth/google/start/", {"next": "/"}), 404, "provider_not_configured")


# --- admin ----------------------------------------------------------------------------------


def test_admin_shows_the_google_link(api, google, admin_client):
    post(api, google.id_token())
    user = get_user_model().objects.get(email="alice@example.com")
    page = admin_client.get(f"/admin/django_redis_auth/user/{user.pk}/change/")
    assert page.status_code == 200
    assert b"google-oauth2" in page.content and b"1001" in page.content
    listing = admin_client.get("/admin/django_redis_auth/user/")
    assert b"google-oauth2" in listing.content


# --- system checks --------------------------------------------------------------------------


def check_ids():
    from django.core.checks import run_checks

    return {m.id for m in run_checks() if m.id and m.id.startswith("django_redis_auth")}


def test_checks_are_quiet_without_google_keys():
    assert not {"django_redis_auth.E010", "django_redis_auth.E011"} & check_ids()


def test_checks_are_quiet_when_google_is_fully_configured(google):
    assert check_ids() == set()


def test_check_explains_the_missing_extra(google, monkeypatch):
    monkeypatch.setitem(sys.modules, "social_django", None)
    from django.core.checks import run_checks

    found = [m for m in run_checks() if m.id == "django_redis_auth.E010"]
    assert found and "django-redis-auth[google]" in found[0].hint


def test_check_wants_social_django_installed(google, settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "social_django"]
    assert "django_redis_auth.E011" in check_ids()


def test_check_warns_about_an_empty_redirect_allow_list(google, settings):
    settings.DJANGO_REDIS_AUTH = google_settings(GOOGLE_REDIRECT_ALLOWED=())
    assert "django_redis_auth.W010" in check_ids()


@pytest.mark.parametrize("name", ["GOOGLE_EXTRA_AUDIENCES", "GOOGLE_REDIRECT_ALLOWED"])
def test_a_bare_string_is_not_a_list_of_targets(name, settings):
    from django.core.exceptions import ImproperlyConfigured

    from django_redis_auth.conf import auth_settings

    settings.DJANGO_REDIS_AUTH = google_settings(**{name: "https://app.example.com/"})
    with pytest.raises(ImproperlyConfigured, match="list or tuple"):
        getattr(auth_settings, name)


class RecordingStrategy:
    def create_user(self, **fields):
        self.fields = fields
        return object()


LONG = "a" * 60 + "@" + "b" * 60 + "." + "c" * 60 + ".example"


@pytest.mark.parametrize(("username", "expected"), [(None, LONG[:150]), ("alice7", "alice7")])
def test_create_user_step_fills_a_separate_username_field(monkeypatch, username, expected):
    """For models like auth.User: the username from social-core's get_username, or the
    address cut to the field's length."""
    from django.contrib.auth.models import User as AuthUser

    from django_redis_auth.google import pipeline as social_pipeline

    monkeypatch.setattr(social_pipeline, "get_user_model", lambda: AuthUser)
    strategy = RecordingStrategy()
    details = {"email": LONG, "first_name": "Alice"}
    extra = {"username": username} if username else {}
    result = social_pipeline.create_user(strategy, details, {"email_verified": True}, **extra)
    assert result["is_new"] is True
    assert strategy.fields == {
        "email": LONG,
        "username": expected,
        "first_name": "Alice",
    }


def test_redis_down_leaves_no_account_behind(api, google, settings):
    google_token = google.id_token()
    settings.DJANGO_REDIS_AUTH = google_settings(REDIS_CLIENT_FACTORY="tests.helpers.dead_redis")
    error(post(api, google_token), 503, "auth_unavailable")
    assert not get_user_model().objects.exists()


def test_redis_down_at_the_exchange_is_503(api, google, settings):
    settings.DJANGO_REDIS_AUTH = google_settings(REDIS_CLIENT_FACTORY="tests.helpers.dead_redis")
    response = api.post("/auth/google/exchange/", {"code": "x"}, format="json")
    error(response, 503, "auth_unavailable")


WITHOUT_EXTRA = """
import os, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("social_core", "social_django", "google"):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Block())
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import tests.settings as test_settings
test_settings.INSTALLED_APPS.remove("social_django")
test_settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = "web.apps.googleusercontent.com"
import django
django.setup()
from django.core.checks import run_checks
from django.test import Client
from django.test.utils import setup_databases, setup_test_environment
print(sorted(m.id for m in run_checks() if (m.id or "").startswith("django_redis_auth")))
setup_test_environment()
setup_databases(verbosity=0, interactive=False)
client = Client()
print(client.get("/auth/google/start/?next=/").json()["code"])
print(client.post("/auth/google/", {"id_token": "x"}, content_type="application/json").status_code)
print(client.get("/admin/login/").status_code)
"""


@pytest.mark.fake_only
def test_the_package_works_without_the_google_extra():
    """social-auth and google-auth are an extra now: nothing else may import them."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRA_TEST")}
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:4] == [
        "['django_redis_auth.E010']",
        "provider_not_configured",
        "404",
        "200",
    ]

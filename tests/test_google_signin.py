"""Google sign-in through the API: ID tokens (web, iOS, Android), access tokens, and an SPA's
own authorization code + PKCE. Google is faked (tests/google_fake.py), never contacted."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.contrib.auth import get_user_model

from django_redis_auth import signals
from tests.google_fake import (
    IOS_CLIENT_ID,
    OTHER_APP_CLIENT_ID,
    SPA_REDIRECT,
    rsa_key,
)
from tests.helpers import error

pytestmark = pytest.mark.django_db
URL = "/auth/google/"
VERIFIER = "v" * 20 + "-verifier-of-the-spa-0123456789"


def post(api, **body):
    return api.post(URL, body, format="json")


def test_id_token_creates_a_verified_user_without_password(api, google):
    response = post(api, id_token=google.id_token())
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}
    user = get_user_model().objects.get(email="alice@example.com")
    assert user.email_verified is True
    assert not user.has_usable_password()
    assert (user.first_name, user.last_name) == ("Alice", "Liddell")
    link = user.social_auth.get()
    assert (link.provider, link.uid) == ("google-oauth2", "1001")


def test_the_pair_is_a_normal_session(api, google, bearer):
    pair = post(api, id_token=google.id_token()).json()
    me = bearer(pair["access"]).get("/auth/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.com"
    rotated = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200


def test_second_sign_in_finds_the_same_account_by_google_id(api, google):
    assert post(api, id_token=google.id_token()).status_code == 200
    # Same Google account (sub), address changed at Google: still the same user, no new one.
    renamed = google.profile(email="alice.new@example.com")
    assert post(api, id_token=google.id_token(renamed)).status_code == 200
    assert get_user_model().objects.count() == 1
    assert get_user_model().objects.get().email == "alice@example.com"  # email is protected


def test_google_credentials_are_not_stored(api, google):
    token = google.access_token()
    assert post(api, access_token=token).status_code == 200
    extra = get_user_model().objects.get().social_auth.get().extra_data
    assert "access_token" not in extra and "refresh_token" not in extra
    assert extra["sub"] == "1001"


def test_ios_client_audience_is_accepted(api, google):
    assert post(api, id_token=google.id_token(aud=IOS_CLIENT_ID)).status_code == 200


def test_wrong_audience_is_refused(api, google):
    response = post(api, id_token=google.id_token(aud=OTHER_APP_CLIENT_ID))
    error(response, 401, "invalid_social_token")
    assert not get_user_model().objects.exists()


def test_expired_id_token_is_refused(api, google):
    issued = time.time() - 7200
    error(post(api, id_token=google.id_token(issued=issued)), 401, "invalid_social_token")


def test_id_token_expiry_is_checked_against_the_clock(api, google):
    token = google.id_token(lifetime=60)
    with time_machine.travel(time.time() + 120):
        error(post(api, id_token=token), 401, "invalid_social_token")


def test_bad_signature_is_refused(api, google):
    forged = google.id_token(key=rsa_key("attacker"))
    error(post(api, id_token=forged), 401, "invalid_social_token")


def test_tampered_claims_are_refused(api, google):
    header, _payload, signature = google.id_token().split(".")
    other = google.id_token(google.profile(sub="666", email="mallory@example.com"))
    tampered = ".".join([header, other.split(".")[1], signature])
    error(post(api, id_token=tampered), 401, "invalid_social_token")


def test_wrong_issuer_is_refused(api, google):
    token = google.id_token(iss="https://accounts.evil.example")
    error(post(api, id_token=token), 401, "invalid_social_token")


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "e30.e30.e30"])
def test_malformed_id_token_is_refused(api, google, garbage):
    error(post(api, id_token=garbage), 401, "invalid_social_token")


def test_google_certificates_are_cached(api, google):
    for sub in ("1", "2", "3"):
        profile = google.profile(sub=sub, email=f"user{sub}@example.com")
        assert post(api, id_token=google.id_token(profile)).status_code == 200
    assert google.calls["certs"] == 1


@pytest.mark.parametrize("status", [500, 503])
def test_google_5xx_on_certificates_is_503(api, google, status):
    google.failure = status
    error(post(api, id_token=google.id_token()), 503, "provider_unavailable")


def test_google_unreachable_is_503(api, google):
    # Nothing registered for the URL: responses raises ConnectionError, as a dead network does.
    google.mock.remove("GET", "https://www.googleapis.com/oauth2/v1/certs")
    error(post(api, id_token=google.id_token()), 503, "provider_unavailable")


# --- access tokens --------------------------------------------------------------------------


def test_access_token_signs_in_through_userinfo(api, google):
    response = post(api, access_token=google.access_token())
    assert response.status_code == 200, response.content
    assert get_user_model().objects.get().email == "alice@example.com"
    assert google.calls["tokeninfo"] == 1 and google.calls["userinfo"] == 1


def test_access_token_of_another_app_is_refused(api, google):
    token = google.access_token(aud=OTHER_APP_CLIENT_ID)
    error(post(api, access_token=token), 401, "invalid_social_token")
    assert google.calls["userinfo"] == 0
    assert not get_user_model().objects.exists()


def test_unknown_access_token_is_refused(api, google):
    error(post(api, access_token="ya29.forged"), 401, "invalid_social_token")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_google_5xx_on_access_token_is_503(api, google, status):
    token = google.access_token()
    google.failure = status
    error(post(api, access_token=token), 503, "provider_unavailable")


# --- an SPA's own code + PKCE ---------------------------------------------------------------


def test_spa_code_with_pkce_signs_in(api, google):
    code = google.spa_code(VERIFIER)
    response = post(api, code=code, code_verifier=VERIFIER, redirect_uri=SPA_REDIRECT)
    assert response.status_code == 200, response.content
    assert google.last_token_request["code_verifier"] == VERIFIER
    assert google.last_token_request["redirect_uri"] == SPA_REDIRECT


def test_spa_code_with_wrong_verifier_is_refused(api, google):
    code = google.spa_code(VERIFIER)
    wrong = VERIFIER[::-1]
    response = post(api, code=code, code_verifier=wrong, redirect_uri=SPA_REDIRECT)
    error(response, 401, "invalid_social_token")
    assert not get_user_model().objects.exists()


def test_spa_code_is_single_use(api, google):
    code = google.spa_code(VERIFIER)
    body = {"code": code, "code_verifier": VERIFIER, "redirect_uri": SPA_REDIRECT}
    assert post(api, **body).status_code == 200
    error(post(api, **body), 401, "invalid_social_token")


def test_spa_redirect_uri_must_be_allowed(api, google):
    evil = "https://evil.example/cb"
    code = google.spa_code(VERIFIER, redirect_uri=evil)
    error(
        post(api, code=code, code_verifier=VERIFIER, redirect_uri=evil), 400, "redirect_not_allowed"
    )
    assert google.calls["token"] == 0


def test_google_5xx_on_token_exchange_is_503(api, google):
    code = google.spa_code(VERIFIER)
    google.failure = 503
    response = post(api, code=code, code_verifier=VERIFIER, redirect_uri=SPA_REDIRECT)
    error(response, 503, "provider_unavailable")


# --- request bodies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"id_token": "x", "access_token": "y"},
        {"code": "c"},
        {"code": "c", "code_verifier": VERIFIER},
        {"code": "c", "code_verifier": "short", "redirect_uri": SPA_REDIRECT},
        {"id_token": "x" * 5000},
    ],
)
def test_bad_bodies_are_400(api, google, body):
    response = post(api, **body)
    assert response.status_code == 400, response.content
    assert response.json()["code"]
    assert google.calls == {"certs": 0, "token": 0, "userinfo": 0, "tokeninfo": 0}


def test_a_stale_bearer_token_does_not_block_sign_in(api, google):
    api.credentials(HTTP_AUTHORIZATION="Bearer expired.or.revoked")
    assert post(api, id_token=google.id_token()).status_code == 200


def test_sign_in_signal(api, google):
    seen = []

    def receiver(sender, user, provider, created, linked, **kwargs):
        seen.append((user.email, provider, created, linked))

    signals.social_sign_in.connect(receiver, dispatch_uid="test-google-sign-in")
    try:
        post(api, id_token=google.id_token())
        post(api, id_token=google.id_token())
    finally:
        signals.social_sign_in.disconnect(dispatch_uid="test-google-sign-in")
    assert seen == [
        ("alice@example.com", "google-oauth2", True, False),
        ("alice@example.com", "google-oauth2", False, False),
    ]


def test_google_certificates_are_fetched_again_when_their_max_age_ends(api, google):
    with time_machine.travel(time.time(), tick=False) as clock:
        assert post(api, id_token=google.id_token()).status_code == 200
        clock.shift(21600 - 5)
        assert post(api, id_token=google.id_token()).status_code == 200
        assert google.calls["certs"] == 1
        clock.shift(10)
        assert post(api, id_token=google.id_token()).status_code == 200
        assert google.calls["certs"] == 2


def test_repeat_id_token_sign_in_cost(api, google, round_trips):
    """Certificates cached: no request to Google, one Redis round trip (open the session),
    and four queries at most: the link with its user, social-auth's extra_data update (its
    auth_time moves every second), the user's factors (pair or second step) and Django's
    last_login update on user_logged_in. The clock moves on between the two sign-ins so the
    count is the worst case every run, not only when a second boundary falls between them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with time_machine.travel(time.time(), tick=False) as clock:
        assert post(api, id_token=google.id_token()).status_code == 200
        clock.shift(2)
        token = google.id_token()
        calls = dict(google.calls)
        with CaptureQueriesContext(connection) as queries, round_trips() as rt:
            assert post(api, id_token=token).status_code == 200
    # The test's own transaction turns the sign-in's transaction into a savepoint.
    sql = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(sql) == 4, sql
    assert [q.split()[0] for q in sql] == ["SELECT", "UPDATE", "SELECT", "UPDATE"], sql
    assert "social_auth_usersocialauth" in sql[0] and "extra_data" in sql[1]
    assert "totpfactor" in sql[2]
    assert "last_login" in sql[3]
    assert rt.count == 1
    assert google.calls == calls


def test_google_timing_out_is_503(api, google):
    import requests

    from tests.google_fake import TOKEN_URL

    google.mock.replace("POST", TOKEN_URL, body=requests.exceptions.ReadTimeout())
    code = google.spa_code(VERIFIER)
    response = post(api, code=code, code_verifier=VERIFIER, redirect_uri=SPA_REDIRECT)
    error(response, 503, "provider_unavailable")


def test_every_request_to_google_is_bounded_by_google_timeout(api, google, settings):
    from tests.google_fake import google_settings

    settings.DJANGO_REDIS_AUTH = google_settings(GOOGLE_TIMEOUT=2)
    assert post(api, id_token=google.id_token()).status_code == 200
    assert post(api, access_token=google.access_token()).status_code == 200
    code = google.spa_code(VERIFIER)
    body = {"code": code, "code_verifier": VERIFIER, "redirect_uri": SPA_REDIRECT}
    assert post(api, **body).status_code == 200
    timeouts = {
        call.request.url.split("?")[0]: call.request.req_kwargs["timeout"]
        for call in google.mock.calls
    }
    assert len(timeouts) == 4  # certificates, tokeninfo, userinfo, token
    assert set(timeouts.values()) == {2}

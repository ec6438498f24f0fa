"""The browser flow without a server session: google/start/ → Google → google/callback/ →
next#code=... → google/exchange/. Google is faked (tests/google_fake.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from django_redis_auth import keys
from tests.google_fake import (
    APP,
    CLIENT_ID,
    google_settings,
)

pytestmark = pytest.mark.django_db
NEXT = "https://app.example.com/signed-in?tab=1"
CALLBACK = "http://testserver/auth/google/callback/"


def start(api, next_url=NEXT):
    return api.get("/auth/google/start/", {"next": next_url})


def query_of(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def fragment_of(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).fragment).items()}


def callback(api, params):
    return api.get("/auth/google/callback/", params)


def sign_in(api, google, profile=None):
    """start → consent → callback; returns the callback's redirect target."""
    response = start(api)
    assert response.status_code == 302, response.content
    params = google.authorize(response["Location"], profile)
    back = callback(api, params)
    assert back.status_code == 302, back.content
    return back["Location"]


def exchange(api, code):
    return api.post("/auth/google/exchange/", {"code": code}, format="json")


def test_start_redirects_to_google_with_state_and_pkce(api, google, redis_client):
    response = start(api)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://accounts.google.com/o/oauth2/auth?")
    query = query_of(location)
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    state_key = keys.google_state(query["state"])
    assert 0 < redis_client.ttl(state_key) <= 600
    cookie = response.cookies["dra_google"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/auth/google/"  # callback/ and exchange/, nothing else
    # The verifier stays server-side: Google only ever sees its S256 challenge.
    assert query["code_challenge"] not in redis_client.get(state_key).decode()


def test_full_flow_ends_in_a_token_pair(api, google, bearer):
    target = sign_in(api, google)
    assert target.startswith(NEXT + "#")
    fragment = fragment_of(target)
    assert set(fragment) == {"code"}  # never the JWTs in a URL
    response = exchange(api, fragment["code"])
    assert response.status_code == 200, response.content
    assert bearer(response.json()["access"]).get("/auth/me/").json()["email"] == (
        "alice@example.com"
    )
    # PKCE: the fake Google checked the verifier against the challenge of the start.
    assert len(google.last_token_request["code_verifier"]) == 64
    assert google.last_token_request["redirect_uri"] == CALLBACK


def test_the_exchange_deletes_the_binding_cookie(api, google):
    code = fragment_of(sign_in(api, google))["code"]
    assert api.cookies["dra_google"].value  # kept by the callback: exchange/ needs it
    answered = exchange(api, code)
    assert answered.status_code == 200
    assert answered.cookies["dra_google"].value == ""


def test_an_exchange_code_signs_in_only_the_browser_that_ran_the_flow(api, google):
    """Login CSRF: an attacker runs the flow, stops at ``next#code=...`` and sends a victim
    that link. The victim's browser has no (or another) binding cookie: refused, and the
    code is spent."""
    code = fragment_of(sign_in(api, google))["code"]
    victim = APIClient()
    refused = exchange(victim, code)
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_code"
    victim.cookies["dra_google"] = "some-other-browsers-binding"
    assert exchange(victim, code).status_code == 400
    assert exchange(api, code).status_code == 400  # spent by the first attempt


def test_state_replay_is_refused(api, google):
    response = start(api)
    params = google.authorize(response["Location"])
    assert callback(api, params).status_code == 302
    again = callback(api, params)
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_state"
    assert again["Content-Type"].startswith("application/json")


def test_unknown_state_is_refused(api, google):
    response = callback(api, {"code": "4/x", "state": "made-up"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_state"
    assert google.calls["token"] == 0


def test_missing_state_is_refused(api, google):
    response = callback(api, {"code": "4/x"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_state"


def test_callback_in_another_browser_is_refused(api, google, client):
    """Login CSRF: an attacker's own callback URL opened in the victim's browser."""
    params = google.authorize(start(api)["Location"])
    from rest_framework.test import APIClient

    victim = APIClient()
    response = callback(victim, params)
    assert response.status_code == 400 and response.json()["code"] == "invalid_state"
    assert google.calls["token"] == 0
    assert not get_user_model().objects.exists()


def test_state_lives_ten_minutes(api, google, redis_client):
    state = query_of(start(api)["Location"])["state"]
    assert 599 <= redis_client.ttl(keys.google_state(state)) <= 600


@pytest.mark.fake_only
def test_expired_state_is_refused(api, google):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        params = google.authorize(start(api)["Location"])
        clock.shift(timedelta(seconds=601))
        response = callback(api, params)
    assert response.status_code == 400 and response.json()["code"] == "invalid_state"


def test_user_declining_goes_back_to_next_with_the_error(api, google):
    state = query_of(start(api)["Location"])["state"]
    back = callback(api, {"error": "access_denied", "state": state})
    assert back.status_code == 302
    assert back["Location"] == NEXT + "#error=access_denied"


def test_google_5xx_at_the_callback_goes_back_with_the_error(api, google):
    params = google.authorize(start(api)["Location"])
    google.failure = 503
    back = callback(api, params)
    assert back["Location"] == NEXT + "#error=provider_unavailable"


def test_refused_link_goes_back_with_account_exists(api, google, make_user):
    make_user(email="alice@example.com")
    target = sign_in(api, google, google.profile(email_verified=False))
    assert fragment_of(target) == {"error": "account_exists"}


def test_exchange_code_is_single_use(api, google):
    code = fragment_of(sign_in(api, google))["code"]
    assert exchange(api, code).status_code == 200
    again = exchange(api, code)
    assert again.status_code == 400 and again.json()["code"] == "invalid_code"


def test_exchange_code_lives_sixty_seconds_and_is_stored_hashed(api, google, redis_client):
    code = fragment_of(sign_in(api, google))["code"]
    key = keys.google_exchange(code)
    assert 59 <= redis_client.ttl(key) <= 60
    assert code not in key
    assert all(code.encode() not in name for name in redis_client.keys("*"))
    record = json.loads(redis_client.get(key))
    assert record["u"] == str(get_user_model().objects.get().pk)
    assert api.cookies["dra_google"].value not in record["b"]  # the binding's digest only


@pytest.mark.fake_only
def test_expired_exchange_code_is_refused(api, google):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        code = fragment_of(sign_in(api, google))["code"]
        clock.shift(timedelta(seconds=61))
        response = exchange(api, code)
    assert response.status_code == 400 and response.json()["code"] == "invalid_code"


def test_unknown_exchange_code_is_refused(api, google):
    response = exchange(api, "not-a-code")
    assert response.status_code == 400 and response.json()["code"] == "invalid_code"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "https://app.example.com@evil.example/",
        "https://app.example.com.evil.example/",
        "http://app.example.com/",  # another scheme
        "https://app.example.com:8443/",  # another port
        "javascript:alert(1)",
        "/\\evil.example",
        "https://app.example.com/a/../../admin",
        "https://app.example.com/%2e%2e/admin",
        "https://app.example.com/#code=planted",
        "",
    ],
)
def test_next_outside_the_allow_list_is_refused(api, google, target):
    response = start(api, target)
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"redirect_not_allowed", "blank", "required", "invalid_input"}
    assert not response.cookies.get("dra_google")


def test_next_may_be_a_path_on_this_site(api, google, settings):
    settings.DJANGO_REDIS_AUTH = google_settings(GOOGLE_REDIRECT_ALLOWED=("/app/", "/exact"))
    assert start(api, "/app/dashboard").status_code == 302
    assert start(api, "/exact").status_code == 302
    assert start(api, "/exact/more").status_code == 400
    assert start(api, APP).status_code == 400


def test_configured_callback_url_is_used(api, google, settings):
    settings.DJANGO_REDIS_AUTH = google_settings(
        GOOGLE_CALLBACK_URL="https://api.example.com/auth/google/callback/"
    )
    response = start(api)
    assert query_of(response["Location"])["redirect_uri"] == (
        "https://api.example.com/auth/google/callback/"
    )


def test_browser_flow_needs_the_client_secret(api, google, settings):
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = ""
    response = start(api)
    assert response.status_code == 404
    assert response.json()["code"] == "provider_not_configured"


def test_second_factor_user_gets_the_challenge_at_exchange(api, google, make_user, mailoutbox):
    make_user(email="alice@example.com", otp_required=True)
    code = fragment_of(sign_in(api, google))["code"]
    response = exchange(api, code)
    assert response.status_code == 202, response.content
    assert response.json()["otp_required"] is True


def test_redis_down_at_start_is_503(api, google):
    with override_settings(
        DJANGO_REDIS_AUTH=google_settings(REDIS_CLIENT_FACTORY="tests.helpers.dead_redis")
    ):
        response = start(api)
    assert response.status_code == 503
    assert response.json()["code"] == "auth_unavailable"


def test_browser_flow_sends_the_stored_verifier_and_google_checks_it(api, google, redis_client):
    """PKCE mismatch: the verifier sent at the callback is the one stored at the start;
    a different one (here: the record altered) is refused by Google."""
    import json

    response = start(api)
    params = google.authorize(response["Location"])
    key = keys.google_state(params["state"])
    record = json.loads(redis_client.get(key))
    record["v"] = "x" * 64
    redis_client.set(key, json.dumps(record), ex=600)
    back = callback(api, params)
    assert fragment_of(back["Location"]) == {"error": "invalid_social_token"}
    assert google.last_token_request["code_verifier"] == "x" * 64
    assert not get_user_model().objects.exists()

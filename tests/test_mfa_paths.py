"""The second step on the other paths in: Google's 202, Redis Cluster's split slots, and
malformed input at every new endpoint (issue #22)."""

from __future__ import annotations

import pytest

from django_redis_auth.mfa import recovery
from tests.google_fake import google_settings
from tests.mfa_helpers import bearer, challenge, code_at, enrol, error, login_pair, post, verify


def test_google_sign_in_asks_for_the_authenticator(api, google, user, settings):
    secret = enrol()["secret"]
    settings.DJANGO_REDIS_AUTH = google_settings(GOOGLE_SATISFIES_SECOND_FACTOR=True)
    response = api.post("/auth/google/", {"id_token": google.id_token()}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    # GOOGLE_SATISFIES_SECOND_FACTOR stands in for the emailed code only.
    assert body["methods"] == ["totp", "recovery_code"]
    assert verify(body["challenge"], code_at(secret), "totp").status_code == 200


def test_google_sign_in_of_an_emailed_second_factor_user_offers_email(api, google, make_user):
    make_user(email="alice@example.com", otp_required=True)
    response = api.post("/auth/google/", {"id_token": google.id_token()}, format="json")
    assert response.status_code == 202
    assert response.json()["methods"] == ["email"]


def test_every_script_call_is_one_slot(user, as_if_on_cluster, monkeypatch):
    from django_redis_auth import store

    enrolled = enrol()
    script_keys: list[list[str]] = []
    original = store.script

    def spy(name):
        script = original(name)
        if name not in ("mfa_attempt", "cap_counter", "totp_setup"):
            return script

        def call(keys, args):
            script_keys.append(keys)
            return script(keys=keys, args=args)

        return call

    monkeypatch.setattr(store, "script", spy)
    assert verify(challenge()["challenge"], code_at(enrolled["secret"]), "totp").status_code == 200
    code = enrolled["recovery_codes"][0]
    assert verify(challenge()["challenge"], code, "recovery_code").status_code == 200
    assert len(script_keys) >= 4  # totp; recovery: take on the IP, take, settle, give back
    for keys in script_keys:
        tags = {key.split("}")[0] for key in keys}
        assert len(tags) == 1, keys


def test_recovery_codes_on_cluster_still_count_per_client_ip(user, as_if_on_cluster, settings):
    enrolled = enrol()
    settings.DJANGO_REDIS_AUTH = {
        **settings.DJANGO_REDIS_AUTH,
        "CODE_GUESSES_PER_IP": 2,
        "MFA_ATTEMPTS_PER_CHALLENGE": 10,
    }
    started = challenge()["challenge"]
    # A right code gives its counted guess back: it does not use up the budget.
    assert verify(started, enrolled["recovery_codes"][0], "recovery_code").status_code == 200
    started = challenge()["challenge"]
    for _ in range(2):
        error(verify(started, recovery.generate_code(), "recovery_code"), 400, "invalid_code")
    error(verify(started, enrolled["recovery_codes"][1], "recovery_code"), 429, "rate_limited")


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "١٢٣٤٥٦", "x" * 33, None, [], {}])
def test_malformed_confirm_codes_are_json_4xx(user, code):
    client = bearer(login_pair()["access"])
    post(client, "2fa/totp/setup/")
    response = client.post("/auth/2fa/totp/confirm/", {"code": code}, format="json")
    assert 400 <= response.status_code < 500, response.content
    assert {"detail", "code"} <= set(response.json())


@pytest.mark.parametrize(
    "code", ["", "short", "x" * 24, "é" * 24, "0000-0000-0000-0000-0000-000u", None, 7]
)
def test_malformed_recovery_codes_are_json_4xx(user, code):
    enrol()
    body = {"challenge": challenge()["challenge"], "code": code, "method": "recovery_code"}
    response = post(bearer(""), "login/verify/", body)
    assert 400 <= response.status_code < 500, response.content
    assert {"detail", "code"} <= set(response.json())


def test_new_endpoints_need_a_bearer_token(db):
    from rest_framework.test import APIClient

    for path in (
        "2fa/totp/setup/",
        "2fa/totp/confirm/",
        "2fa/totp/disable/",
        "2fa/recovery-codes/",
    ):
        error(post(APIClient(), path), 401, "not_authenticated")
    error(APIClient().get("/auth/2fa/"), 401, "not_authenticated")


def test_the_account_ceiling_steps_up_to_the_authenticator_not_the_inbox(user, redis_client):
    from django.core import mail

    from django_redis_auth import keys
    from tests.helpers import override_package
    from tests.mfa_helpers import PASSWORD

    secret = enrol()["secret"]
    mail.outbox.clear()
    with override_package(LOGIN_STEP_UP_AFTER=3):
        for _ in range(3):
            response = post(bearer(""), "login/", {"email": "alice@example.com", "password": "x"})
            assert response.status_code == 401
        started = challenge(password=PASSWORD)
        assert started["methods"] == ["totp", "recovery_code"]
        assert mail.outbox == []
        assert verify(started["challenge"], code_at(secret), "totp").status_code == 200
    assert not redis_client.exists(keys.account_failures("alice@example.com"))


def test_redis_down_at_setup_and_confirm_is_503_and_writes_nothing(user):
    from django_redis_auth.mfa.models import RecoveryCode, TOTPFactor
    from tests.helpers import redis_down

    client = bearer(login_pair()["access"])
    secret = post(client, "2fa/totp/setup/").json()["secret"]
    with redis_down():
        error(post(client, "2fa/totp/setup/"), 503, "auth_unavailable")
    with redis_down():
        error(post(client, "2fa/totp/confirm/", {"code": code_at(secret)}), 503, "auth_unavailable")
    assert not TOTPFactor.objects.exists() and not RecoveryCode.objects.exists()


def test_a_failed_pair_rolls_the_enrolment_back(user, monkeypatch):
    from django_redis_auth.exceptions import AuthUnavailable
    from django_redis_auth.mfa import changes
    from django_redis_auth.mfa.models import RecoveryCode, TOTPFactor

    client = bearer(login_pair()["access"])
    secret = post(client, "2fa/totp/setup/").json()["secret"]

    def down(*args, **kwargs):
        raise AuthUnavailable()

    monkeypatch.setattr(changes, "factor_changed", down)
    error(post(client, "2fa/totp/confirm/", {"code": code_at(secret)}), 503, "auth_unavailable")
    assert not TOTPFactor.objects.exists() and not RecoveryCode.objects.exists()
    assert login_pair()  # still no second step


@pytest.mark.parametrize("policy", ["off", "optional", "required"])
def test_an_enrolled_authenticator_is_asked_for_under_every_policy(user, policy):
    from tests.helpers import override_package

    secret = enrol()["secret"]
    with override_package(SECOND_FACTOR=policy):
        started = challenge()
        assert started["methods"] == ["totp", "recovery_code"]
        assert verify(started["challenge"], code_at(secret)).status_code == 200

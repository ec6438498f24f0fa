"""otp/: resending codes, limits nobody can turn against a user, round trips."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings

from tests.flow_helpers import (
    UNAVAILABLE,
    code_in,
    no_cooldown,
    post,
    same_answer,
    signup,
    start_login,
)
from tests.helpers import package_settings, redis_down

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_resend_verification_code_replaces_the_old_one(api):
    with no_cooldown():
        signup(api)
        old = code_in(mail.outbox[0])
        response = post(api, "otp/", {"email": "new@example.com", "purpose": "email_verification"})
    assert response.status_code == 202
    new = code_in(mail.outbox[1])
    assert mail.outbox[1].subject == "Your verification code"
    if old != new:
        stale = post(api, "email/verify/", {"email": "new@example.com", "code": old})
        assert stale.status_code == 400
    fresh = post(api, "email/verify/", {"email": "new@example.com", "code": new})
    assert fresh.status_code == 200


@pytest.mark.parametrize("purpose", ["email_verification", "password_reset", "login"])
def test_resend_is_identical_for_known_and_unknown_addresses(api, make_user, purpose):
    make_user(email="pending@example.com", email_verified=False)
    first = {}
    second = {}
    for email in ("pending@example.com", "nobody@example.com"):
        first[email] = post(api, "otp/", {"email": email, "purpose": purpose})
        second[email] = post(api, "otp/", {"email": email, "purpose": purpose})
    same_answer(first["pending@example.com"], first["nobody@example.com"])
    same_answer(second["pending@example.com"], second["nobody@example.com"])
    assert first["nobody@example.com"].status_code == 202
    if purpose == "login":
        # Without a challenge nothing per-address is charged (only the client IP's cap).
        assert second["nobody@example.com"].status_code == 202
    else:
        assert second["nobody@example.com"].status_code == 429
        assert int(second["nobody@example.com"]["Retry-After"]) >= 55
    assert all(m.to == ["pending@example.com"] for m in mail.outbox)


def test_nobody_can_lock_a_user_out_by_asking_for_login_codes_in_their_name(
    api, twofa_user, password
):
    for i in range(15):  # more than the cooldown and the per-email hourly cap allow
        response = api.post(
            "/auth/otp/",
            {"email": "alice@example.com", "purpose": "login"},
            format="json",
            REMOTE_ADDR=f"198.51.100.{i}",
        )
        assert response.status_code == 202
    assert mail.outbox == []
    challenge, code = start_login(api, password)  # her own sign-in still gets its code
    assert post(api, "login/verify/", {"challenge": challenge, "code": code}).status_code == 200
    reset = post(api, "password/reset/", {"email": "alice@example.com"})
    assert reset.status_code == 202
    assert mail.outbox[-1].to == ["alice@example.com"]


def test_nobody_can_lock_a_user_out_of_sign_in_by_asking_for_resets_in_their_name(
    api, twofa_user, password
):
    """Reset and verification codes need no credential, so their hourly count must not be
    the one the password-checked login code is charged against."""
    with no_cooldown(HOURLY_CAP_PER_EMAIL=3):
        answers = [
            api.post(
                "/auth/otp/" if i % 2 else "/auth/password/reset/",
                {"email": "alice@example.com", "purpose": "password_reset"},
                format="json",
                REMOTE_ADDR=f"198.51.100.{i}",
            ).status_code
            for i in range(6)
        ]
        assert answers == [202] * 3 + [429] * 3  # the address's open budget is used up ...
        challenge, code = start_login(api, password)  # ... her sign-in's is not
        verified = post(api, "login/verify/", {"challenge": challenge, "code": code})
        assert verified.status_code == 200


def test_login_code_requests_without_a_challenge_still_count_per_ip(api):
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(
            HOURLY_CAP_PER_IP=2, CLIENT_IP_RESOLVER="tests.flow_helpers.fixed_ip"
        )
    ):
        body = {"email": "x@example.com", "purpose": "login"}
        assert [post(api, "otp/", body).status_code for _ in range(3)] == [202, 202, 429]


def test_resend_verification_to_verified_account_sends_nothing(api, user):
    response = post(api, "otp/", {"email": "alice@example.com", "purpose": "email_verification"})
    assert response.status_code == 202
    assert mail.outbox == []


def test_resend_login_code_needs_a_challenge(api, twofa_user, password):
    with no_cooldown():
        challenge, old = start_login(api, password)
        sent = len(mail.outbox)
        response = post(api, "otp/", {"email": "alice@example.com", "purpose": "login"})
        assert response.status_code == 202
        assert len(mail.outbox) == sent  # no challenge, no code
        response = post(
            api,
            "otp/",
            {"email": "alice@example.com", "purpose": "login", "challenge": challenge},
        )
        assert response.status_code == 202
        assert len(mail.outbox) == sent + 1
        new = code_in(mail.outbox[-1])
        # A challenge of another address does not unlock a code for this one.
        post(api, "otp/", {"email": "bob@example.com", "purpose": "login", "challenge": challenge})
        assert len(mail.outbox) == sent + 1
    if old != new:
        response = post(api, "login/verify/", {"challenge": challenge, "code": old})
        assert response.json()["code"] == "invalid_code"
    response = post(api, "login/verify/", {"challenge": challenge, "code": new})
    assert response.status_code == 200


def test_resend_uses_the_client_ip_resolver(api):
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(
            RESEND_COOLDOWN=0,
            HOURLY_CAP_PER_IP=2,
            CLIENT_IP_RESOLVER="tests.flow_helpers.fixed_ip",
        )
    ):
        for i in range(2):
            body = {"email": f"u{i}@example.com", "purpose": "password_reset"}
            assert post(api, "otp/", body).status_code == 202
        body = {"email": "u9@example.com", "purpose": "password_reset"}
        response = post(api, "otp/", body)
        assert response.status_code == 429


def test_resend_with_redis_down_is_503(api):
    with redis_down():
        response = post(api, "otp/", {"email": "a@example.com", "purpose": "password_reset"})
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)


def test_issue_and_verify_endpoints_make_one_code_round_trip(api, round_trips, password, user):
    with no_cooldown():
        post(api, "password/reset/", {"email": "alice@example.com"})  # scripts loaded
        with round_trips() as rt:
            post(api, "password/reset/", {"email": "alice@example.com"})
        assert rt.commands == [b"EVALSHA"]
        with round_trips() as rt:
            post(api, "password/reset/", {"email": "nobody@example.com"})
        assert rt.commands == [b"EVALSHA"]

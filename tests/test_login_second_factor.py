"""login/ with the emailed second factor, and login/verify/."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from tests.flow_helpers import (
    NEW_PASSWORD,
    UNAVAILABLE,
    confirm,
    html_of,
    no_cooldown,
    post,
    reset_code,
    start_login,
)
from tests.helpers import package_settings, redis_down

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_login_with_second_factor_end_to_end(api, twofa_user, password, bearer):
    challenge, code = start_login(api, password)
    message = mail.outbox[-1]
    assert message.subject == "Your sign-in code" and code in html_of(message)
    response = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert response.status_code == 200
    pair = response.json()
    assert bearer(pair["access"]).get("/auth/me/").json()["email"] == "alice@example.com"
    replay = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert replay.json()["code"] == "invalid_code"


def test_global_second_factor_policy(api, user, password):
    with override_settings(DJANGO_REDIS_AUTH=package_settings(SECOND_FACTOR="required")):
        start_login(api, password)
    with override_settings(DJANGO_REDIS_AUTH=package_settings(SECOND_FACTOR="off")):
        response = post(api, "login/", {"email": "alice@example.com", "password": password})
        assert response.status_code == 200


def test_wrong_password_sends_no_code(api, twofa_user):
    response = post(api, "login/", {"email": "alice@example.com", "password": "wrong pass"})
    assert response.status_code == 401
    assert mail.outbox == []


def test_login_code_needs_its_own_challenge(api, twofa_user, password):
    with no_cooldown():
        _first_challenge, first_code = start_login(api, password)
        second_challenge, second_code = start_login(api, password)
    # The first code died with the second login; and a code never works with another challenge.
    response = post(api, "login/verify/", {"challenge": second_challenge, "code": first_code})
    if first_code != second_code:
        assert response.json()["code"] == "invalid_code"
    tampered = second_challenge[:-2] + ("AA" if not second_challenge.endswith("AA") else "BB")
    response = post(api, "login/verify/", {"challenge": tampered, "code": second_code})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_code")
    response = post(api, "login/verify/", {"challenge": "", "code": second_code})
    assert response.status_code == 400
    response = post(api, "login/verify/", {"code": second_code})
    assert response.status_code == 400
    ok = post(api, "login/verify/", {"challenge": second_challenge, "code": second_code})
    assert ok.status_code == 200


def test_code_alone_cannot_sign_in_through_other_endpoints(api, twofa_user, password):
    _challenge, code = start_login(api, password)
    # email/verify is a different purpose: the login code is worthless there.
    response = post(api, "email/verify/", {"email": "alice@example.com", "code": code})
    assert response.json()["code"] == "invalid_code"


def test_challenge_dies_when_the_password_changes(api, twofa_user, password):
    challenge, code = start_login(api, password)
    twofa_user.set_password(NEW_PASSWORD)
    twofa_user.save()
    response = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert response.json()["code"] == "invalid_code"


def test_challenge_expires_with_the_code(api, twofa_user, password):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        challenge, code = start_login(api, password)
        clock.shift(timedelta(seconds=601))
        response = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert response.json()["code"] == "invalid_code"


ROTATED_SECRET_KEY = "a-rotated-secret-key-" + "x" * 40


def test_with_otp_hmac_key_a_secret_key_rotation_keeps_pending_codes(api, twofa_user, password):
    """docs/settings.md: set OTP_HMAC_KEY to rotate SECRET_KEY without voiding pending codes.
    Key names and code digests follow OTP_HMAC_KEY; the login challenge, signed with
    SECRET_KEY, follows SECRET_KEY_FALLBACKS like any Django signature."""
    with override_settings(DJANGO_REDIS_AUTH=package_settings(OTP_HMAC_KEY="k" * 32)):
        challenge, login_code = start_login(api, password)
        code = reset_code(api)
        with override_settings(
            SECRET_KEY=ROTATED_SECRET_KEY, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]
        ):
            verified = post(api, "login/verify/", {"challenge": challenge, "code": login_code})
            assert verified.status_code == 200, verified.content
            assert confirm(api, code).status_code == 200


def test_without_a_fallback_a_secret_key_rotation_ends_pending_logins(api, twofa_user, password):
    with override_settings(DJANGO_REDIS_AUTH=package_settings(OTP_HMAC_KEY="k" * 32)):
        challenge, code = start_login(api, password)
        with override_settings(SECRET_KEY=ROTATED_SECRET_KEY):
            response = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert response.json()["code"] == "invalid_code"


def test_without_otp_hmac_key_a_secret_key_rotation_voids_pending_codes(api, user):
    code = reset_code(api)
    with override_settings(
        SECRET_KEY=ROTATED_SECRET_KEY, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]
    ):
        assert confirm(api, code).json()["code"] == "invalid_code"
    assert confirm(api, code).status_code == 200  # still pending under the old key


def test_login_inside_cooldown_is_429(api, twofa_user, password):
    start_login(api, password)
    response = post(api, "login/", {"email": "alice@example.com", "password": password})
    assert response.status_code == 429
    assert "Retry-After" in response


def test_login_verify_with_redis_down_is_503(api, twofa_user, password):
    challenge, code = start_login(api, password)
    with redis_down():
        response = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)


def test_login_with_redis_down_is_503(api, twofa_user, password):
    with redis_down():
        response = post(api, "login/", {"email": "alice@example.com", "password": password})
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    assert mail.outbox == []

"""django-axes and password_guard together (run by tests/test_axes.py with
tests/settings_axes.py). login/ calls django.contrib.auth.authenticate exactly once, so axes
counts each attempt once and so does the guard; neither bypasses the other."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from rest_framework.test import APIClient

from django_redis_auth import keys
from tests.helpers import override_package

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"
WRONG = "not the password at all"


def post_login(email: str, password: str):
    return APIClient(REMOTE_ADDR=IP).post(
        "/auth/login/", {"email": email, "password": password}, format="json"
    )


def axes_failures() -> int:
    return sum(a.failures_since_start for a in AccessAttempt.objects.all())


def guard_failures(redis_client) -> int:
    return int(redis_client.hget(keys.account_failures("alice@example.com"), "n") or 0)


def test_each_login_counts_once_in_axes_and_once_in_the_guard(user, redis_client):
    for _ in range(2):
        assert post_login("alice@example.com", WRONG).status_code == 401
    assert axes_failures() == 2
    assert guard_failures(redis_client) == 2


def test_axes_lockout_holds_and_counts_as_a_failure_here(user, password, redis_client):
    for _ in range(3):
        assert post_login("alice@example.com", WRONG).status_code == 401
    # Axes refuses inside authenticate(): for Django (and so for us) a failed sign-in.
    response = post_login("alice@example.com", password)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert guard_failures(redis_client) == 4
    reset()
    assert post_login("alice@example.com", password).status_code == 200
    assert guard_failures(redis_client) == 0


def test_the_guard_delay_holds_under_a_looser_axes(user, password, settings, redis_client):
    settings.AXES_FAILURE_LIMIT = 50
    with override_package(LOGIN_FAILURES_BEFORE_DELAY=2):
        for _ in range(2):
            assert post_login("alice@example.com", WRONG).status_code == 401
        response = post_login("alice@example.com", password)
        assert response.status_code == 429
        assert response.json()["code"] == "login_throttled"
    # The throttled attempt still ran authenticate() (the hash always runs): axes saw a
    # success there, the guard counted nothing.
    assert axes_failures() == 2
    assert guard_failures(redis_client) == 2

"""Guarantee 8 through the HTTP API: login/ is throttled (issue #11, item 2)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from django_redis_auth import keys
from django_redis_auth.accounts import password_guard
from django_redis_auth.exceptions import LoginThrottled
from django_redis_auth.tokens import issuing as tokens
from tests.helpers import override_package

pytestmark = pytest.mark.django_db

WRONG = "not the password at all"


def post_login(email: str, password: str, ip: str = "203.0.113.7"):
    return APIClient(REMOTE_ADDR=ip).post(
        "/auth/login/", {"email": email, "password": password}, format="json"
    )


def answer(response) -> tuple[int, object, str | None]:
    return response.status_code, response.json(), response.headers.get("Retry-After")


def test_guessing_is_delayed_after_five_failures_even_for_the_right_password(user, password):
    for _ in range(5):
        assert post_login("alice@example.com", WRONG).status_code == 401
    response = post_login("alice@example.com", password)
    assert answer(response) == (
        429,
        {"detail": "Too many failed sign-in attempts. Try again later.", "code": "login_throttled"},
        "2",
    )
    # The owner signs in from elsewhere meanwhile: no lock-out.
    assert post_login("alice@example.com", password, ip="198.51.100.1").status_code == 200


def test_unknown_addresses_are_throttled_exactly_like_known_ones(user):
    def sequence(email: str) -> list[tuple[int, object, str | None]]:
        return [answer(post_login(email, WRONG)) for _ in range(8)]

    known = sequence("alice@example.com")
    unknown = sequence("nobody@example.com")
    assert known == unknown
    assert [status for status, _, _ in known] == [401] * 5 + [429] * 3


def test_the_account_ceiling_steps_up_to_an_emailed_code(user, password, redis_client):
    with override_package(LOGIN_STEP_UP_AFTER=4):
        for n in range(4):
            assert post_login("alice@example.com", WRONG, ip=f"198.51.100.{n}").status_code == 401
        response = post_login("alice@example.com", password, ip="192.0.2.1")
        assert response.status_code == 202
        body = response.json()
        assert body["otp_required"] is True
        code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
        assert mail.outbox[-1].to == ["alice@example.com"]
        verified = APIClient(REMOTE_ADDR="192.0.2.1").post(
            "/auth/login/verify/", {"challenge": body["challenge"], "code": code}, format="json"
        )
        assert verified.status_code == 200
        assert set(verified.json()) == {"access", "refresh"}
        assert not redis_client.exists(keys.account_failures("alice@example.com"))
        assert post_login("alice@example.com", password, ip="192.0.2.1").status_code == 200


def test_password_spraying_from_one_client_is_429(make_user, password):
    for n in range(3):
        make_user(email=f"user{n}@example.com")
    with override_package(LOGIN_FAILURES_PER_IP=3):
        for n in range(3):
            assert post_login(f"user{n}@example.com", WRONG).status_code == 401
        response = post_login("user0@example.com", password)
        assert response.status_code == 429
        assert response.json()["code"] == "login_throttled"
        assert int(response.headers["Retry-After"]) > 60
        assert post_login("user0@example.com", password, ip="198.51.100.1").status_code == 200


def test_login_costs_one_added_round_trip(user, password, round_trips):
    post_login("warm@example.com", WRONG)  # scripts loaded
    with round_trips() as rt:
        assert post_login("alice@example.com", WRONG).status_code == 401
    # the guard's script, and the failure's activity entry
    assert (rt.count, rt.commands) == (2, [b"EVALSHA", b"EVALSHA"])
    with round_trips() as rt:
        assert post_login("nobody@example.com", WRONG).status_code == 401
    assert rt.count == 2  # an address without an account costs the same
    tokens.issue_token_pair(user)
    with round_trips() as rt:
        tokens.issue_token_pair(user)
    issuing = rt.count
    with round_trips() as rt:
        assert post_login("alice@example.com", password).status_code == 200
    assert rt.count == issuing + 1


def test_the_guard_counts_each_login_once(user, redis_client):
    post_login("alice@example.com", WRONG)
    post_login("alice@example.com", WRONG)
    assert redis_client.hget(keys.account_failures("alice@example.com"), "n") == b"2"
    assert redis_client.hget(keys.login_failures("alice@example.com", "203.0.113.7"), "n") == b"2"


def test_other_endpoints_can_use_the_public_api(user, password):
    """What password/change/ & co. build on: one call checks the password and the guard, and
    shares the records of login/ (same canonical address, same client)."""
    for _ in range(4):
        assert password_guard.check_password(user, WRONG, "203.0.113.7").ok is False
    assert post_login("alice@example.com", WRONG).status_code == 401  # the 5th failure
    with pytest.raises(LoginThrottled):
        password_guard.check_password(user, password, "203.0.113.7")
    assert password_guard.check_password(user, password, "198.51.100.1") == (
        password_guard.Verdict(ok=True)
    )
    assert {"attempt", "check_password", "reset", "Verdict"} <= set(password_guard.__all__)

"""Code guessing by people without a credential (issue #11, item 3.3): CODE_GUESSES_PER_IP.

Anyone can send wrong codes for any address; three of them destroy its pending code. The
policy: wrong codes count against the sending client IP (sliding hour), and over its
budget the client is refused before the code is even looked at — one client cannot
destroy other people's codes at scale, and its refused guesses cost the owner nothing.
"""

from __future__ import annotations

import contextlib

import pytest
from rest_framework.test import APIClient

from django_redis_auth import keys, store
from django_redis_auth.codes import otp
from django_redis_auth.codes.purposes import Purpose
from django_redis_auth.exceptions import InvalidCode, RateLimited, TooManyAttempts
from tests.helpers import override_package, window_count

EMAIL = "victim@example.com"
ATTACKER = "198.51.100.66"
RESET = Purpose.PASSWORD_RESET


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def test_wrong_codes_count_against_the_client_and_are_refused_over_its_budget(redis_client):
    with override_package(CODE_GUESSES_PER_IP=4, RESEND_COOLDOWN=0):
        first = otp.issue_code("a@example.com", RESET)
        for _ in range(2):
            with pytest.raises(InvalidCode):
                otp.verify_code("a@example.com", RESET, wrong(first), client_ip=ATTACKER)
        with pytest.raises(InvalidCode):
            otp.verify_code("nobody@example.com", RESET, "123456", client_ip=ATTACKER)
        code = otp.issue_code(EMAIL, RESET)
        with pytest.raises(InvalidCode):
            otp.verify_code(EMAIL, RESET, wrong(code), client_ip=ATTACKER)
        assert window_count(redis_client, keys.ip_limits(ATTACKER), "g") == 4
        # Over the budget: refused before the code is looked at; its attempts stay as they were.
        attempts = redis_client.hget(keys.code(EMAIL, RESET), "a")
        for _ in range(5):
            with pytest.raises(RateLimited) as exc:
                otp.verify_code(EMAIL, RESET, wrong(code), client_ip=ATTACKER)
            assert 1 <= exc.value.wait <= 4500
        assert redis_client.hget(keys.code(EMAIL, RESET), "a") == attempts
        otp.verify_code(EMAIL, RESET, code, client_ip="192.0.2.1")  # the owner's code works


def test_right_codes_cost_nothing(redis_client):
    with override_package(CODE_GUESSES_PER_IP=1, RESEND_COOLDOWN=0):
        for n in range(5):
            code = otp.issue_code(f"u{n}@example.com", RESET)
            otp.verify_code(f"u{n}@example.com", RESET, code, client_ip=ATTACKER)
    assert window_count(redis_client, keys.ip_limits(ATTACKER), "g") == 0


def test_zero_turns_the_guess_budget_off():
    with override_package(CODE_GUESSES_PER_IP=0):
        for _ in range(50):
            with pytest.raises(InvalidCode):
                otp.verify_code(EMAIL, RESET, "123456", client_ip=ATTACKER)


def test_the_per_code_limit_still_holds():
    code = otp.issue_code(EMAIL, RESET)
    for _ in range(2):
        with pytest.raises(InvalidCode):
            otp.verify_code(EMAIL, RESET, wrong(code), client_ip=ATTACKER)
    with pytest.raises(TooManyAttempts):
        otp.verify_code(EMAIL, RESET, wrong(code), client_ip="192.0.2.99")


def test_verify_stays_one_round_trip(round_trips):
    code = otp.issue_code(EMAIL, RESET)
    with pytest.raises(InvalidCode):
        otp.verify_code(EMAIL, RESET, wrong(code), client_ip=ATTACKER)
    for candidate in (wrong(code), code):
        with round_trips() as rt:
            with contextlib.suppress(InvalidCode):
                otp.verify_code(EMAIL, RESET, candidate, client_ip=ATTACKER)
        assert (rt.count, rt.commands) == (1, [b"EVALSHA"])


@pytest.fixture
def cluster(monkeypatch):
    monkeypatch.setattr(store, "is_cluster", lambda client=None: True)


def test_cluster_counts_only_wrong_codes(cluster, redis_client, round_trips):
    with override_package(CODE_GUESSES_PER_IP=2, RESEND_COOLDOWN=0):
        warm = otp.issue_code("warm@example.com", RESET)
        otp.verify_code("warm@example.com", RESET, warm, client_ip=ATTACKER)  # scripts loaded
        code = otp.issue_code(EMAIL, RESET)
        with round_trips() as rt, pytest.raises(InvalidCode):
            otp.verify_code(EMAIL, RESET, wrong(code), client_ip=ATTACKER)
        assert rt.count == 2
        with round_trips() as rt:
            otp.verify_code(EMAIL, RESET, code, client_ip=ATTACKER)
        assert rt.count == 3  # the right code's guess is given back
        assert window_count(redis_client, keys.ip_limits(ATTACKER), "g") == 1
        with pytest.raises(InvalidCode):
            otp.verify_code(EMAIL, RESET, "000000", client_ip=ATTACKER)
        with pytest.raises(RateLimited):
            otp.verify_code(EMAIL, RESET, "000000", client_ip=ATTACKER)


# --- through the API ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["email/verify", "password/reset/confirm"])
def test_one_client_cannot_burn_other_peoples_codes_at_scale(endpoint, make_user):
    """Without a budget one client destroyed every pending code it could name, 3 guesses
    each. With CODE_GUESSES_PER_IP = 6 it destroys at most two, then gets 429."""
    owners = [make_user(email=f"owner{n}@example.com", email_verified=False) for n in range(4)]
    purpose = Purpose.EMAIL_VERIFICATION if endpoint == "email/verify" else RESET
    codes = [otp.issue_code(u.email, purpose) for u in owners]
    attacker = APIClient(REMOTE_ADDR=ATTACKER)
    statuses = []
    with override_package(CODE_GUESSES_PER_IP=6):
        for user, code in zip(owners, codes, strict=True):
            for _ in range(3):
                body = {"email": user.email, "code": wrong(code)}
                if endpoint == "password/reset/confirm":
                    body["new_password"] = "a new and long passphrase"
                statuses.append(attacker.post(f"/auth/{endpoint}/", body, format="json"))
    assert [r.status_code for r in statuses] == [400] * 6 + [429] * 6
    assert statuses[-1].json()["code"] == "rate_limited"
    assert statuses[-1].headers["Retry-After"]
    # The third and fourth owners' codes are intact and still work for them.
    body = {"email": owners[3].email, "code": codes[3]}
    if endpoint == "password/reset/confirm":
        body["new_password"] = "a new and long passphrase"
    response = APIClient(REMOTE_ADDR="192.0.2.1").post(f"/auth/{endpoint}/", body, format="json")
    assert response.status_code == 200, response.content

"""Guarantee 8 at the module level: password_guard.attempt (issue #11, item 2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
import time_machine
from django.utils import timezone

from django_redis_auth import keys, signals
from django_redis_auth.accounts import password_guard
from django_redis_auth.exceptions import AuthUnavailable, LoginThrottled
from tests.helpers import override_package, window_count

EMAIL = "alice@example.com"
IP = "203.0.113.7"


def fail(times: int, email: str = EMAIL, ip: str | None = IP) -> None:
    for _ in range(times):
        assert password_guard.attempt(email, ip, False) == password_guard.Verdict(ok=False)


# --- per address + client: the growing delay ------------------------------------------------


def test_five_failures_start_a_delay_that_even_the_right_password_cannot_pass():
    fail(4)
    assert password_guard.attempt(EMAIL, IP, True).ok  # four failures: no delay yet
    fail(5)  # the fifth failure starts the delay
    for ok in (True, False):
        with pytest.raises(LoginThrottled) as exc:
            password_guard.attempt(EMAIL, IP, ok)
        assert exc.value.wait == 2
        assert exc.value.get_codes() == "login_throttled"
        assert exc.value.status_code == 429


def test_the_delay_is_per_address_and_client():
    fail(5)
    with pytest.raises(LoginThrottled):
        password_guard.attempt(EMAIL, IP, True)
    assert password_guard.attempt(EMAIL, "198.51.100.1", True).ok  # the owner elsewhere
    assert password_guard.attempt("bob@example.com", IP, True).ok  # another account


@pytest.mark.fake_only
def test_the_delay_doubles_with_each_further_failure_up_to_its_maximum():
    start = timezone.now()
    with (
        time_machine.travel(start, tick=False) as clock,
        override_package(LOGIN_DELAY=2, LOGIN_DELAY_MAX=30),
    ):
        fail(5)
        waits = []
        for _ in range(6):
            with pytest.raises(LoginThrottled) as exc:
                password_guard.attempt(EMAIL, IP, False)
            waits.append(exc.value.wait)
            clock.shift(timedelta(seconds=exc.value.wait))
            fail(1)
        assert waits == [2, 4, 8, 16, 30, 30]


@pytest.mark.fake_only
def test_attempts_inside_the_delay_count_nothing(redis_client):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail(5)
        before = redis_client.hgetall(keys.login_failures(EMAIL, IP))
        for _ in range(20):
            with pytest.raises(LoginThrottled):
                password_guard.attempt(EMAIL, IP, False)
        assert redis_client.hgetall(keys.login_failures(EMAIL, IP)) == before
        assert redis_client.hget(keys.account_failures(EMAIL), "n") == b"5"
        clock.shift(timedelta(seconds=2))
        assert password_guard.attempt(EMAIL, IP, True).ok


@pytest.mark.fake_only
def test_success_after_the_delay_resets_it(redis_client):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail(5)
        clock.shift(timedelta(seconds=2))
        assert password_guard.attempt(EMAIL, IP, True).ok
        assert not redis_client.exists(keys.login_failures(EMAIL, IP))
        assert not redis_client.exists(keys.account_failures(EMAIL))
        fail(4)  # counting starts again: four failures are no delay
        assert password_guard.attempt(EMAIL, IP, True).ok


@pytest.mark.fake_only
def test_failures_are_forgotten_after_login_failure_ttl(redis_client):
    with (
        time_machine.travel(timezone.now(), tick=False) as clock,
        override_package(LOGIN_FAILURE_TTL=600),
    ):
        fail(4)
        clock.shift(timedelta(seconds=601))
        fail(4)
        assert password_guard.attempt(EMAIL, IP, True).ok


@pytest.mark.django_db
def test_spellings_of_one_address_share_its_records(api, user, password):
    """The address is made canonical at the edge (login/'s EmailField), so every spelling
    reaches the guard as one address."""
    for typed in ["ALICE@Example.com"] * 3 + ["alice@EXAMPLE.COM"] * 2:
        body = {"email": typed, "password": "not it"}
        assert api.post("/auth/login/", body, format="json").status_code == 401
    body = {"email": "\uff41lice@example.com", "password": password}
    response = api.post("/auth/login/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (429, "login_throttled")


def test_unknown_clients_share_a_record_per_address_only():
    """No IP (a server without REMOTE_ADDR): one record per address, never one for all."""
    fail(5, ip=None)
    with pytest.raises(LoginThrottled):
        password_guard.attempt(EMAIL, None, True)
    assert password_guard.attempt("bob@example.com", None, True).ok


# --- per address across clients: step-up, never a lock -------------------------------------


def test_the_account_ceiling_asks_for_a_code_instead_of_locking_the_owner_out():
    with override_package(LOGIN_STEP_UP_AFTER=12):
        for n in range(12):
            fail(1, ip=f"198.51.100.{n}")  # distributed: no single client is delayed
        verdict = password_guard.attempt(EMAIL, "192.0.2.1", True)
        assert verdict == password_guard.Verdict(ok=True, step_up=True)
        # A right password alone does not reset the ceiling: it needs the second factor.
        assert password_guard.attempt(EMAIL, "192.0.2.1", True).step_up
        assert password_guard.attempt(EMAIL, "192.0.2.1", False) == password_guard.Verdict(ok=False)
        password_guard.reset(EMAIL)
        assert password_guard.attempt(EMAIL, "192.0.2.1", True) == password_guard.Verdict(ok=True)


def test_the_default_ceiling_is_nist_100(redis_client):
    assert password_guard.attempt(EMAIL, IP, True) == password_guard.Verdict(ok=True)
    redis_client.hset(keys.account_failures(EMAIL), "n", 99)
    assert not password_guard.attempt(EMAIL, IP, True).step_up
    redis_client.hset(keys.account_failures(EMAIL), "n", 100)
    assert password_guard.attempt(EMAIL, IP, True).step_up


def test_a_right_password_below_the_ceiling_resets_the_account_count(redis_client):
    fail(3, ip="198.51.100.1")
    fail(3, ip="198.51.100.2")
    assert redis_client.hget(keys.account_failures(EMAIL), "n") == b"6"
    assert password_guard.attempt(EMAIL, "192.0.2.1", True).ok
    assert not redis_client.exists(keys.account_failures(EMAIL))
    assert redis_client.exists(keys.login_failures(EMAIL, "198.51.100.1"))


def test_account_failures_expire_after_login_step_up_ttl(redis_client):
    fail(1)
    assert 0 < redis_client.pttl(keys.account_failures(EMAIL)) <= 30 * 86400 * 1000
    with override_package(LOGIN_STEP_UP_TTL=60):
        fail(1, ip="198.51.100.1")
        assert 0 < redis_client.pttl(keys.account_failures(EMAIL)) <= 60_000


# --- per client across addresses: spraying --------------------------------------------------


def test_password_spraying_from_one_ip_is_capped(redis_client):
    with override_package(LOGIN_FAILURES_PER_IP=3):
        for n in range(3):
            fail(1, email=f"user{n}@example.com")
        assert window_count(redis_client, keys.ip_limits(IP), "f") == 3
        for ok in (False, True):
            with pytest.raises(LoginThrottled) as exc:
                password_guard.attempt("victim@example.com", IP, ok)
            assert 1 <= exc.value.wait <= 4500
        assert password_guard.attempt("victim@example.com", "198.51.100.1", True).ok
        assert not redis_client.exists(keys.login_failures("victim@example.com", IP))


def test_right_passwords_do_not_count_against_the_ip(redis_client):
    with override_package(LOGIN_FAILURES_PER_IP=2):
        for n in range(10):
            assert password_guard.attempt(f"user{n}@example.com", IP, True).ok
        assert window_count(redis_client, keys.ip_limits(IP), "f") == 0


def test_zero_turns_the_ip_cap_off():
    with override_package(LOGIN_FAILURES_PER_IP=0):
        for n in range(120):
            fail(1, email=f"user{n}@example.com")


def test_ipv6_clients_are_counted_per_64():
    with override_package(LOGIN_FAILURES_PER_IP=2):
        fail(1, email="a@example.com", ip="2001:db8:1:2::1")
        fail(1, email="b@example.com", ip="2001:db8:1:2:ffff::9")
        with pytest.raises(LoginThrottled):
            password_guard.attempt("c@example.com", "2001:db8:1:2::77", True)
        assert password_guard.attempt("c@example.com", "2001:db8:1:3::1", True).ok


# --- signals --------------------------------------------------------------------------------


def test_a_signal_tells_when_each_limit_trips_once_without_the_ip():
    received: list[dict[str, Any]] = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    signals.login_throttled.connect(receiver)
    try:
        with override_package(LOGIN_STEP_UP_AFTER=7, LOGIN_FAILURES_PER_IP=9):
            fail(5)  # trips the delay
            fail(2, ip="198.51.100.1")  # the account's 7th failure: step-up
            fail(3, email="x@example.com")  # the IP's 6th to 8th
            fail(1, email="y@example.com")  # the IP's 9th: spraying
            with pytest.raises(LoginThrottled):
                password_guard.attempt("z@example.com", IP, False)
    finally:
        signals.login_throttled.disconnect(receiver)
    assert [(r["scope"], r["reason"]) for r in received] == [
        ("account_client", "delay"),
        ("account", "step_up"),
        ("client", "spraying"),
    ]
    assert [r["email"] for r in received[:2]] == [EMAIL, EMAIL]
    assert all(set(r) == {"signal", "email", "scope", "reason"} for r in received)


# --- round trips, Cluster, outage -----------------------------------------------------------


def test_one_round_trip_on_a_single_redis(round_trips):
    password_guard.attempt("warm@example.com", IP, False)  # script loaded
    for ok in (False, True):
        with round_trips() as rt:
            password_guard.attempt(EMAIL, IP, ok)
        assert (rt.count, rt.commands) == (1, [b"EVALSHA"])


def test_cluster_takes_two_round_trips_each_in_one_slot(as_if_on_cluster, round_trips, script_keys):
    password_guard.attempt("warm@example.com", IP, False)
    seen = script_keys
    for ok in (False, True):
        with round_trips() as rt:
            password_guard.attempt(EMAIL, IP, ok)
        assert rt.count == 2
    assert all(len({k.split("}")[0] for k in slot_keys}) == 1 for slot_keys in seen)


def test_cluster_applies_the_same_limits(as_if_on_cluster, redis_client):
    with override_package(LOGIN_FAILURES_PER_IP=7):
        fail(5)
        with pytest.raises(LoginThrottled):
            password_guard.attempt(EMAIL, IP, True)
        # The delay refused the attempt after the IP's part counted it: given back.
        assert window_count(redis_client, keys.ip_limits(IP), "f") == 5
        fail(2, email="bob@example.com")
        with pytest.raises(LoginThrottled):
            password_guard.attempt("carol@example.com", IP, True)
        assert not redis_client.exists(keys.account_failures("carol@example.com"))


def test_cluster_refused_failure_costs_three_round_trips(as_if_on_cluster, round_trips):
    fail(5)
    with round_trips() as rt, pytest.raises(LoginThrottled):
        password_guard.attempt(EMAIL, IP, False)
    assert rt.count == 3


def test_redis_down_is_503():
    def dead() -> redis.Redis:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis(port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))

    with (
        override_package(REDIS_CLIENT_FACTORY=lambda: dead()),
        pytest.raises(AuthUnavailable),
    ):
        password_guard.attempt(EMAIL, IP, True)

"""The Redis Cluster path of every limit that charges a client IP before an address' script
(``store.charge_then_run``): issuing a code, verifying one, checking a password. Each site
gives the IP's charge back the same way when the second step fails or refuses, and keeps its
answer when giving back fails. (On fakeredis with ``is_cluster`` forced; tests/test_cluster.py
runs the same paths on a real cluster.)"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import redis

from django_redis_auth import keys, store
from django_redis_auth.accounts import password_guard
from django_redis_auth.codes import otp
from django_redis_auth.codes.purposes import Purpose
from django_redis_auth.exceptions import AuthUnavailable, InvalidCode, LoginThrottled, RateLimited
from tests.helpers import override_package, window_count

pytestmark = pytest.mark.usefixtures("as_if_on_cluster")

EMAIL, IP = "carol@example.com", "203.0.113.7"
IP_KEY = keys.ip_limits(IP)


def _issue() -> None:
    otp.issue_code(EMAIL, Purpose.EMAIL_VERIFICATION, client_ip=IP)


def _guess() -> None:
    """A wrong code: counted against the IP's wrong guesses."""
    with contextlib.suppress(InvalidCode):
        otp.verify_code(EMAIL, Purpose.PASSWORD_RESET, "x", client_ip=IP)


def _right_code() -> None:
    code = otp.issue_code(EMAIL, Purpose.PASSWORD_RESET)
    otp.verify_code(EMAIL, Purpose.PASSWORD_RESET, code, client_ip=IP)


def _wrong_password() -> None:
    with override_package(LOGIN_FAILURES_BEFORE_DELAY=1):
        password_guard.attempt(EMAIL, IP, False)


def _throttled_password() -> None:
    """A wrong password after the one failure allowed before the delay."""
    with override_package(LOGIN_FAILURES_BEFORE_DELAY=1):
        password_guard.attempt(EMAIL, IP, False)


@dataclass(frozen=True)
class Site:
    name: str
    script: str  # the address' script (the second step)
    field: str  # the IP's count it charges
    charge: Callable[[], None]  # one request the IP is charged for
    refused: Callable[[], None]  # then one whose charge the second step gives back
    refusal: type[Exception] | None  # what that one answers

    def __str__(self) -> str:
        return self.name


SITES = [
    Site("issue_code", "issue_code", "n", _issue, _issue, RateLimited),
    Site("verify_code", "verify_code", "g", _guess, _right_code, None),
    Site(
        "password_guard",
        "password_guard",
        "f",
        _wrong_password,
        _throttled_password,
        LoginThrottled,
    ),
]


def _fail(monkeypatch, name: str, when: Callable[[list[str], list], bool]) -> None:
    """Calls of script ``name`` for which ``when(keys, args)`` holds raise a timeout."""
    original = store.script

    def script(wanted):
        real = original(wanted)
        if wanted != name:
            return real

        def call(keys, args):
            if when(keys, args):
                raise redis.TimeoutError("slot timed out")
            return real(keys=keys, args=args)

        return call

    monkeypatch.setattr(store, "script", script)


def _count(redis_client, site: Site) -> int:
    return window_count(redis_client, IP_KEY, site.field)


@pytest.mark.parametrize("site", SITES, ids=str)
def test_the_ip_is_charged_once_per_request(redis_client, site):
    site.charge()
    assert _count(redis_client, site) == 1


@pytest.mark.parametrize("site", SITES, ids=str)
def test_a_failed_second_step_gives_the_charge_back(redis_client, monkeypatch, site):
    _fail(monkeypatch, site.script, lambda keys, args: IP_KEY not in keys)
    with pytest.raises(AuthUnavailable):
        site.charge()
    assert _count(redis_client, site) == 0


def _answer(site: Site) -> None:
    if site.refusal is None:
        site.refused()
    else:
        with pytest.raises(site.refusal):
            site.refused()


@pytest.mark.parametrize("site", SITES, ids=str)
def test_a_refused_second_step_gives_the_charge_back(redis_client, site):
    site.charge()
    _answer(site)
    assert _count(redis_client, site) == 1


@pytest.mark.parametrize("site", SITES, ids=str)
def test_the_answer_stands_when_giving_back_fails(monkeypatch, caplog, site):
    giving_back = {"give_back", "ip_give_back"}
    _fail(monkeypatch, "cap_counter", lambda keys, args: args[0] in giving_back)
    _fail(monkeypatch, "password_guard", lambda keys, args: args[0] in giving_back)
    site.charge()
    with caplog.at_level(logging.WARNING, logger="django_redis_auth"):
        _answer(site)
    assert "Could not give back a client IP's count" in caplog.text

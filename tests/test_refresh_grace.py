"""REFRESH_REUSE_INTERVAL: a repeated refresh of the immediate predecessor inside the
interval gets the same successor pair; anything else is still reuse."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from django_redis_auth.tokens import issuing as tokens
from tests.helpers import override_package

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def refresh(api, raw):
    return api.post("/auth/token/refresh/", {"refresh": raw}, format="json")


def refresh_many(raw: str, n: int) -> list[object]:
    """``n`` refreshes of ``raw`` at once: real threads against real Redis; on fakeredis
    (whose scripts run one at a time under a lock anyway) every sequential interleaving is
    the same, so they run one after another."""
    outcomes: list[object] = []

    def one() -> None:
        try:
            outcomes.append(tokens.rotate_refresh_token(raw))
        except AuthenticationFailed as exc:
            outcomes.append(exc.get_codes())

    if not settings.REAL:
        for _ in range(n):
            one()
        return outcomes
    barrier = threading.Barrier(n)

    def racing() -> None:
        barrier.wait()
        one()

    threads = [threading.Thread(target=racing) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_without_interval_a_second_use_is_reuse(api, user, login, bearer):
    pair = login()
    first = refresh(api, pair["refresh"])
    assert first.status_code == 200
    second = refresh(api, pair["refresh"])
    assert second.status_code == 401 and second.json()["code"] == "token_reused"
    assert bearer(first.json()["access"]).get("/auth/me/").status_code == 401


def test_within_interval_the_predecessor_gets_the_same_pair(api, user, login, bearer):
    with override_package(REFRESH_REUSE_INTERVAL=10):
        with time_machine.travel(START, tick=False):
            pair = login()
        with time_machine.travel(START + timedelta(seconds=30), tick=False):
            first = refresh(api, pair["refresh"]).json()
        with time_machine.travel(START + timedelta(seconds=38), tick=False):
            again = refresh(api, pair["refresh"])
            assert again.status_code == 200
            assert again.json() == first  # byte for byte: the same successor pair
            assert bearer(first["access"]).get("/auth/me/").status_code == 200
            # One branch: the successor rotates once more as usual.
            third = refresh(api, first["refresh"])
            assert third.status_code == 200
            assert bearer(third.json()["access"]).get("/auth/me/").status_code == 200


def test_replayed_pair_has_the_claims_of_the_first(api, user, login):
    with override_package(REFRESH_REUSE_INTERVAL=5):
        pair = login()
        first, again = (refresh(api, pair["refresh"]).json() for _ in range(2))
    for kind, cls in (("access", AccessToken), ("refresh", RefreshToken)):
        a, b = cls(first[kind]), cls(again[kind])
        assert a.payload == b.payload
    assert RefreshToken(first["refresh"])["fam"] == RefreshToken(pair["refresh"])["fam"]


def test_after_the_interval_the_predecessor_is_reuse(api, user, login, bearer):
    with override_package(REFRESH_REUSE_INTERVAL=10):
        with time_machine.travel(START, tick=False):
            pair = login()
            first = refresh(api, pair["refresh"]).json()
        with time_machine.travel(START + timedelta(seconds=11), tick=False):
            late = refresh(api, pair["refresh"])
            assert late.status_code == 401 and late.json()["code"] == "token_reused"
            assert bearer(first["access"]).get("/auth/me/").status_code == 401


def test_an_older_token_is_reuse_even_inside_the_interval(api, user, login, bearer):
    with override_package(REFRESH_REUSE_INTERVAL=60), time_machine.travel(START, tick=False):
        pair = login()
        first = refresh(api, pair["refresh"]).json()
        second = refresh(api, first["refresh"]).json()
        # pair["refresh"] is two rotations back: not the immediate predecessor.
        stale = refresh(api, pair["refresh"])
        assert stale.status_code == 401 and stale.json()["code"] == "token_reused"
        assert bearer(second["access"]).get("/auth/me/").status_code == 401


def test_a_revoked_session_is_not_replayed(api, user, login, bearer):
    with override_package(REFRESH_REUSE_INTERVAL=60):
        pair = login()
        first = refresh(api, pair["refresh"]).json()
        assert bearer(first["access"]).post("/auth/logout/").status_code == 204
        again = refresh(api, pair["refresh"])
        assert again.status_code == 401 and again.json()["code"] == "token_revoked"


@pytest.mark.parametrize("interval", [0, 5])
def test_fifty_parallel_refreshes(user, login, bearer, interval):
    pair = login()
    bearer(pair["access"]).get("/auth/me/")  # warm the user cache: the race is Redis-only
    with override_package(REFRESH_REUSE_INTERVAL=interval):
        outcomes = refresh_many(pair["refresh"], 50)
    assert len(outcomes) == 50
    pairs = [o for o in outcomes if isinstance(o, tokens.TokenPair)]
    if interval == 0:
        # Exactly one rotation wins; every other use is reuse, which kills the family.
        assert len(pairs) == 1
        assert set(outcomes) - set(pairs) <= {"token_reused", "token_revoked"}
        assert bearer(pairs[0].access).get("/auth/me/").status_code == 401
    else:
        # Every caller gets the one successor pair, and it stays live.
        assert len(pairs) == 50 and len(set(pairs)) == 1
        assert bearer(pairs[0].access).get("/auth/me/").status_code == 200
        assert tokens.rotate_refresh_token(pairs[0].refresh)


def test_setting_is_validated():
    from django.core.exceptions import ImproperlyConfigured

    from django_redis_auth.conf import auth_settings

    with override_package(REFRESH_REUSE_INTERVAL=-1), pytest.raises(ImproperlyConfigured):
        auth_settings.REFRESH_REUSE_INTERVAL  # noqa: B018

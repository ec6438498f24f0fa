"""The per-process circuit breaker of store.guard(): after CIRCUIT_BREAKER_TIMEOUTS consecutive
Redis timeouts, answer 503 at once for CIRCUIT_BREAKER_SECONDS instead of letting every
request wait out its own socket timeout; then try again; a success closes it. Time is an
injected clock."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.test import override_settings

from django_redis_auth import store
from tests.helpers import Clock, package_settings

pytestmark = pytest.mark.django_db


class SlowRedis:
    """A client whose every command times out (a paused or overloaded Redis) while ``slow``,
    and otherwise is the suite's real client. Counts the commands that reached it."""

    slow = False
    calls = 0
    real: Any = None

    def __getattr__(self, name: str) -> Any:
        if not SlowRedis.slow:
            return getattr(SlowRedis.real, name)

        def timing_out(*args: Any, **kwargs: Any) -> Any:
            SlowRedis.calls += 1
            raise redis.TimeoutError("Timeout reading from socket")

        return timing_out


def slow_redis() -> SlowRedis:
    return SlowRedis()


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(500.0)
    monkeypatch.setattr(store.guard(), "clock", clock)
    return clock


@pytest.fixture
def slow(redis_client):
    """The package's client is a SlowRedis, answering normally until a test sets ``slow``."""
    SlowRedis.slow, SlowRedis.calls, SlowRedis.real = False, 0, redis_client
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(
            REDIS_CLIENT_FACTORY="tests.test_circuit_breaker.slow_redis"
        )
    ):
        yield SlowRedis


def me(client) -> int:
    response = client.get("/auth/me/")
    if response.status_code == 503:
        assert response.json()["code"] == "auth_unavailable"
        assert response["Retry-After"] == "5"
    return response.status_code


def test_opens_after_consecutive_timeouts_and_answers_at_once(
    user, login, bearer, clock, slow, round_trips
):
    client = bearer(login()["access"])
    slow.slow = True
    assert [me(client) for _ in range(3)] == [503] * 3
    assert slow.calls == 3  # each of these waited for its own timeout
    assert [me(client) for _ in range(20)] == [503] * 20
    assert slow.calls == 3  # open: answered without asking Redis

    clock.now += 1.9
    assert me(client) == 503 and slow.calls == 3
    clock.now += 0.2  # past CIRCUIT_BREAKER_SECONDS: one request tries again …
    assert me(client) == 503 and slow.calls == 4
    assert me(client) == 503 and slow.calls == 4  # … and one more timeout re-opens it

    clock.now += 2.1
    slow.slow = False  # Redis answers again
    assert me(client) == 200
    with round_trips() as rt:  # closed again: the request costs its one MGET, as before
        assert me(client) == 200
    assert rt.count == 1
    slow.slow = True
    assert [me(client) for _ in range(4)] == [503] * 4
    assert slow.calls == 7  # counting starts over after a success


def test_every_redis_path_is_refused_while_open(api, user, password, login, bearer, clock, slow):
    pair = login()
    client = bearer(pair["access"])
    slow.slow = True
    for _ in range(3):
        me(client)
    calls = slow.calls
    for response in (
        api.post("/auth/login/", {"email": user.email, "password": password}, format="json"),
        api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"),
        api.post("/auth/otp/", {"email": user.email, "purpose": "password_reset"}, format="json"),
        client.post("/auth/logout/all/"),
    ):
        assert (response.status_code, response.json()["code"]) == (503, "auth_unavailable")
    assert slow.calls == calls


def test_settings_tune_or_disable_it(user, login, bearer, clock, slow):
    client = bearer(login()["access"])
    slow.slow = True
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(
            REDIS_CLIENT_FACTORY="tests.test_circuit_breaker.slow_redis",
            CIRCUIT_BREAKER_TIMEOUTS=0,
        )
    ):
        assert [me(client) for _ in range(6)] == [503] * 6
        assert slow.calls == 6  # off: every request waits for Redis
    slow.calls = 0
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(
            REDIS_CLIENT_FACTORY="tests.test_circuit_breaker.slow_redis",
            CIRCUIT_BREAKER_TIMEOUTS=1,
            CIRCUIT_BREAKER_SECONDS=30,
        )
    ):
        assert [me(client) for _ in range(3)] == [503] * 3
        assert slow.calls == 1
        clock.now += 29
        assert me(client) == 503 and slow.calls == 1
        clock.now += 1.5
        assert me(client) == 503 and slow.calls == 2


def test_refused_connections_do_not_open_it(user, login, bearer, clock):
    client = bearer(login()["access"])
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(REDIS_CLIENT_FACTORY="tests.helpers.dead_redis")
    ):
        assert [me(client) for _ in range(5)] == [503] * 5
        assert store.guard().open_until == 0.0  # a refusal is already fast
    assert me(client) == 200

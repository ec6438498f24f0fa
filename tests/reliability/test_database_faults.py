"""Postgres refusing connections, against the example project on gunicorn: every endpoint that
needs the database answers 503 ``database_unavailable`` (JSON, Retry-After), the paths a warm
user cache serves stay 200/204, the outage is logged once per worker, and everything works
again once the database accepts connections — without restarting the app."""

from __future__ import annotations

import time

import pytest

from tests.redis_servers import wait_until
from tests.reliability.harness import PASSWORD, Stack, server_errors, statuses

pytestmark = [pytest.mark.reliability, pytest.mark.real]

CACHED, UNCACHED, OTHER = "cached@example.com", "uncached@example.com", "other@example.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with Stack(tmp_path_factory.mktemp("database-faults")) as stack:
        stack.app.create_users(CACHED, UNCACHED, OTHER)
        yield stack


def drop_cached_user(stack, user_id: str) -> None:
    client = stack.redis.client()
    for key in client.scan_iter(f"dra:{{u{user_id}}}:user"):
        client.delete(key)


def test_postgres_refusing_connections(stack, report):
    app, db = stack.app, stack.db
    cached = app.login(CACHED)
    uncached = app.login(UNCACHED)
    assert app.call("GET", "/auth/me/", token=cached["access"]).status == 200  # cached now
    uncached_id = app.call("GET", "/auth/me/", token=uncached["access"]).data["id"]
    drop_cached_user(stack, uncached_id)
    log_before = len(app.log_lines())

    db.refuse()
    try:
        public = {
            "login/": app.post("/auth/login/", {"email": OTHER, "password": PASSWORD}),
            "signup/": app.post("/auth/signup/", {"email": "n@example.com", "password": PASSWORD}),
            "password/reset/": app.post("/auth/password/reset/", {"email": OTHER}),
            "otp/": app.post("/auth/otp/", {"email": OTHER, "purpose": "email_verification"}),
            "password/reset/confirm/": app.post(
                "/auth/password/reset/confirm/",
                {"email": OTHER, "code": "123456", "new_password": PASSWORD + "x"},
            ),
            "me/ (uncached user)": app.call("GET", "/auth/me/", token=uncached["access"]),
            "token/refresh/ (uncached user)": app.post(
                "/auth/token/refresh/", {"refresh": uncached["refresh"]}
            ),
        }
        repeated = [
            app.post("/auth/login/", {"email": OTHER, "password": PASSWORD}) for _ in range(40)
        ]
        warm_me = app.call("GET", "/auth/me/", token=cached["access"])
        warm_refresh = app.post("/auth/token/refresh/", {"refresh": cached["refresh"]})
        fresh = warm_refresh.data if warm_refresh.status == 200 else cached
        warm_logout = app.post(
            "/auth/logout/", {"refresh": fresh["refresh"]}, token=fresh["access"]
        )
    finally:
        db.allow()
    allowed = time.monotonic()
    for name, answer in public.items():
        assert (answer.status, answer.code) == (503, "database_unavailable"), name
        assert answer.headers.get("retry-after") == "5", name
    assert not server_errors([*public.values(), *repeated])
    assert (warm_me.status, warm_refresh.status, warm_logout.status) == (200, 200, 204)

    lines = app.log_lines()[log_before:]
    outage_lines = [line for line in lines if "Database unavailable" in line]
    assert 1 <= len(outage_lines) <= app.workers  # once per worker process, not per request
    assert not [line for line in lines if "Service Unavailable" in line]  # django.request quiet
    for secret in (OTHER, PASSWORD, cached["access"], uncached["refresh"]):
        assert all(secret not in line for line in lines)

    # Back without restarting the app.
    wait_until(
        lambda: app.post("/auth/login/", {"email": OTHER, "password": PASSWORD}).status == 200,
        "login to work again",
    )
    recovered = time.monotonic()
    assert app.call("GET", "/auth/me/", token=uncached["access"]).status == 200
    report.add(
        "Postgres refusing connections",
        "`ALTER DATABASE … ALLOW_CONNECTIONS false` + `pg_terminate_backend` of its sessions",
        "503 `database_unavailable` + `Retry-After` from every endpoint that needs the "
        "database; cached users keep working; one log line per worker",
        by_endpoint={name: f"{a.status} {a.code}" for name, a in public.items()},
        repeated_logins=statuses(repeated),
        warm_cache={
            "me/": warm_me.status,
            "token/refresh/": warm_refresh.status,
            "logout/": warm_logout.status,
        },
        slowest_503_ms=round(max(a.seconds for a in [*public.values(), *repeated]) * 1000),
        log_lines_for_the_outage=f"{len(outage_lines)} ({app.workers} workers, 47 requests)",
        allowed_again_to_first_login_ms=round((recovered - allowed) * 1000),
    )

"""Redis outages and data loss (guarantees 1 and 6).

* Redis unreachable: every endpoint that needs it answers 503 ``auth_unavailable`` (JSON) —
  never 200 (a token accepted unchecked) and never 500 — unless ``FAIL_OPEN`` is on, which
  accepts the token *and* logs a warning each time.
* Redis back: the same cached client reconnects by itself; nobody re-creates it.
* Redis back *empty* (restart without persistence, flush, failover that lost writes): old
  tokens are refused with 401, never accepted again, and signing in works at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio
import redis.cluster
from django.conf import settings
from django.test import override_settings

from django_redis_auth import store
from tests.helpers import DEAD_PORT, package_settings, redis_down
from tests.redis_servers import RedisServer, no_retry, wait_until

pytestmark = pytest.mark.django_db

UNAVAILABLE = {
    "detail": "Authentication is temporarily unavailable. Try again shortly.",
    "code": "auth_unavailable",
}

# A port nothing listens on (the OS just handed it out and took it back).


@pytest.fixture(name="redis_down")
def redis_down_fixture() -> Iterator[None]:
    """The package's client points at a Redis that refuses connections."""
    with redis_down():
        yield


@pytest.fixture
def fail_open_and_down() -> Iterator[None]:
    with redis_down(FAIL_OPEN=True):
        yield


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Content-Type"].split(";")[0] == "application/json"
    assert response.json() == UNAVAILABLE


# -- Redis unreachable (both passes) ---------------------------------------------------------


def test_authenticated_requests_are_refused_with_503_when_redis_is_down(
    user, login, bearer, me_path
):
    pair = login()
    client = bearer(pair["access"])
    assert client.get(me_path).status_code == 200
    with redis_down():
        assert_unavailable(client.get(me_path))
        assert_unavailable(client.post("/auth/logout/", {}, format="json"))
        assert_unavailable(client.post("/auth/logout/all/"))


def dead_cluster() -> redis.cluster.RedisCluster:
    """A ``RedisCluster`` factory whose every node is down: redis-py raises
    ``RedisClusterException`` (not a ``RedisError``) from the constructor."""
    from redis.cluster import RedisCluster

    return RedisCluster(
        host="127.0.0.1", port=DEAD_PORT, socket_connect_timeout=0.5, retry=no_retry()
    )


def test_unreachable_cluster_is_503_not_500(api, user, login, bearer, password):
    client = bearer(login()["access"])
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(REDIS_CLIENT_FACTORY="tests.test_outage.dead_cluster")
    ):
        assert_unavailable(client.get("/auth/me/"))
        assert_unavailable(client.post("/auth/logout/all/"))
        assert_unavailable(
            api.post("/auth/login/", {"email": user.email, "password": password}, format="json")
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_security_change_with_redis_down_writes_nothing(user, change):
    """Autocommit (no surrounding transaction): the revocation runs before the row is
    written, so a Redis outage leaves the old password / active flag in place."""
    from django.contrib.auth import get_user_model

    from django_redis_auth.exceptions import AuthUnavailable

    before = get_user_model().objects.values("password", "is_active").get(pk=user.pk)
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(REDIS_CLIENT_FACTORY="tests.helpers.dead_redis")
    ):
        if change == "password":
            user.set_password("another long passphrase 7")
        else:
            user.is_active = False
        with pytest.raises(AuthUnavailable):
            user.save()
    assert get_user_model().objects.values("password", "is_active").get(pk=user.pk) == before


def test_login_is_503_when_redis_is_down(api, user, password, redis_down):
    response = api.post("/auth/login/", {"email": user.email, "password": password}, format="json")
    assert_unavailable(response)


def test_token_refresh_is_503_when_redis_is_down(api, user, login):
    pair = login()
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(REDIS_CLIENT_FACTORY="tests.helpers.dead_redis")
    ):
        response = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert_unavailable(response)


def test_outage_does_not_hide_bad_tokens(bearer, me_path):
    """Signature and expiry are checked before Redis: garbage is 401, not 503."""
    with redis_down():
        assert bearer("not-a-jwt").get(me_path).status_code == 401


def test_fail_open_accepts_and_logs_a_warning_every_time(user, login, bearer, caplog, me_path):
    client = bearer(login()["access"])
    with redis_down(FAIL_OPEN=True):
        caplog.set_level(logging.WARNING, logger="django_redis_auth")
        caplog.clear()
        for expected in (1, 2, 3):
            response = client.get(me_path)
            assert response.status_code == 200
            assert response.json()["email"] == user.email
            warnings = [
                r
                for r in caplog.records
                if r.name == "django_redis_auth"
                and r.levelno == logging.WARNING
                and "FAIL_OPEN" in r.getMessage()
            ]
            assert len(warnings) == expected


def test_fail_open_still_refuses_invalid_tokens_and_cannot_sign_in(
    api, user, password, bearer, fail_open_and_down
):
    """Fail-open skips the revocation check only: it neither accepts forged tokens nor
    mints tokens it could not register (login stays 503)."""
    assert bearer("not-a-jwt").get("/auth/me/").status_code == 401
    response = api.post("/auth/login/", {"email": user.email, "password": password}, format="json")
    assert_unavailable(response)


def test_flushdb_refuses_old_tokens_and_sign_in_works(api, user, login, bearer, redis_client):
    devices = [login(), login()]
    rotated = api.post("/auth/token/refresh/", {"refresh": devices[1]["refresh"]}, format="json")
    assert rotated.status_code == 200
    devices.append(rotated.json())

    redis_client.flushdb()

    for pair in devices:
        assert bearer(pair["access"]).get("/auth/me/").status_code == 401
        refreshed = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
        assert refreshed.status_code == 401
    fresh = login()
    assert bearer(fresh["access"]).get("/auth/me/").status_code == 200
    # The new session does not revive the old ones.
    assert bearer(devices[0]["access"]).get("/auth/me/").status_code == 401


# -- recovery with fakeredis (the in-process server can be switched off and on) --------------


@pytest.mark.fake_only
def test_fakeredis_outage_then_recovery_with_the_same_client(api, user, login, bearer):
    pair = login()
    client = bearer(pair["access"])
    assert client.get("/auth/me/").status_code == 200
    cached_client = store.get_client()
    server = settings.FAKE_REDIS_SERVER
    server.connected = False
    try:
        assert_unavailable(client.get("/auth/me/"))
        assert_unavailable(client.post("/auth/logout/", {}, format="json"))
        assert_unavailable(
            api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
        )
    finally:
        server.connected = True
    # Back by itself: the same client, and nothing was half-done while it was down
    # (the failed logout revoked nothing; the failed refresh rotated nothing).
    assert store.get_client() is cached_client
    assert client.get("/auth/me/").status_code == 200
    rotated = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200


# -- a real redis-server that is stopped and restarted empty --------------------------------


@pytest.fixture(scope="module")
def standalone() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def on_standalone(standalone: RedisServer) -> Iterator[RedisServer]:
    """The package's default path (django-redis cache alias) pointed at the throwaway server."""
    standalone.start()
    standalone.client().flushall()
    caches = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": standalone.url(0),
        }
    }
    with override_settings(CACHES=caches):
        yield standalone
    standalone.start()  # leave it running for the next test


@pytest.mark.real
def test_restart_empty_refuses_old_tokens_and_recovers_with_the_same_client(
    api, user, password, login, bearer, on_standalone
):
    server = on_standalone
    pair = login()
    client = bearer(pair["access"])
    assert client.get("/auth/me/").status_code == 200
    cached_client = store.get_client()
    assert cached_client.connection_pool.connection_kwargs["port"] == server.port

    server.stop()
    assert_unavailable(client.get("/auth/me/"))
    assert_unavailable(
        api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    )
    assert_unavailable(
        api.post("/auth/login/", {"email": user.email, "password": password}, format="json")
    )

    server.start()  # same port, no data: the revocation state is gone
    assert server.client().dbsize() == 0
    response = client.get("/auth/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    refreshed = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 401

    fresh = login()
    assert bearer(fresh["access"]).get("/auth/me/").status_code == 200
    assert store.get_client() is cached_client  # recovered by itself, not re-created


@pytest.mark.real
def test_restart_during_a_session_does_not_revive_a_revoked_token(
    user, login, bearer, on_standalone
):
    """Logout, then Redis loses everything (including the revocation record): the logged-out
    token must stay dead — the missing session epoch refuses it."""
    server = on_standalone
    pair = login()
    client = bearer(pair["access"])
    assert client.post("/auth/logout/", {}, format="json").status_code == 204
    server.restart()
    assert client.get("/auth/me/").status_code == 401


@pytest.mark.real
def test_revocation_waits_for_replica_acknowledgement(api, user, login, bearer, settings):
    """REPLICA_ACKS: logout answers only once a replica holds the revocation, and 503 when no
    replica acknowledges (the token is still revoked on the master)."""
    with RedisServer() as master, RedisServer() as replica:
        replica.client().replicaof("127.0.0.1", master.port)
        wait_until(
            lambda: replica.client().info("replication").get("master_link_status") == "up",
            "the replica to sync",
        )
        _factory_url[0] = master.url()
        package = {
            **settings.DJANGO_REDIS_AUTH,
            "REDIS_CLIENT_FACTORY": "tests.test_outage.url_client",
        }
        with override_settings(
            DJANGO_REDIS_AUTH={**package, "REPLICA_ACKS": 1, "REPLICA_ACK_TIMEOUT": 2000}
        ):
            pair = login()
            assert bearer(pair["access"]).post("/auth/logout/").status_code == 204
            # The replica already has it: promote it and the token is still dead.
            replica.client().replicaof("NO", "ONE")
            _factory_url[0] = replica.url()
        with override_settings(DJANGO_REDIS_AUTH={**package, "REPLICA_ACKS": 1}):
            assert bearer(pair["access"]).get("/auth/me/").status_code == 401
            # The promoted server has no replica: a revocation cannot be acknowledged.
            other = login()
            response = bearer(other["access"]).post("/auth/logout/all/")
            assert (response.status_code, response.json()["code"]) == (503, "auth_unavailable")
            assert bearer(other["access"]).get("/auth/me/").status_code == 401


_factory_url = [""]


def url_client():
    return redis.Redis.from_url(_factory_url[0], socket_timeout=5)


def test_the_fail_open_warning_does_not_identify_the_user(user, login, bearer, caplog):
    pair = login()
    with redis_down(FAIL_OPEN=True), caplog.at_level("WARNING", logger="django_redis_auth"):
        assert bearer(pair["access"]).get("/auth/me/").status_code == 200
    warnings = [r.getMessage() for r in caplog.records if "FAIL_OPEN" in r.getMessage()]
    assert warnings
    assert not any(str(user.pk) in w or user.email in w for w in warnings)

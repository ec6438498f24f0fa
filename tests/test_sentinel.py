"""Redis Sentinel through django-redis' own Sentinel support (no client factory needed).

The package reaches Redis through ``django_redis.get_redis_connection(alias)`` (the primary,
``write=True``), so a cache alias configured with django-redis' ``SentinelClient`` and
``SentinelConnectionFactory`` is all a project needs. These tests start a real master, a
replica and a Sentinel from the machine's ``redis-server`` and go through the HTTP API.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.test import override_settings
from redis.sentinel import SentinelConnectionPool

from django_redis_auth import store
from tests.redis_servers import HOST, RedisSentinelServers, redis_sentinel

pytestmark = [pytest.mark.real, pytest.mark.django_db]


def sentinel_caches(servers: RedisSentinelServers) -> dict:
    """The CACHES setting a project writes for Sentinel (see docs/cluster.md)."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            # The host part is the Sentinel service name, not a machine.
            "LOCATION": f"redis://{servers.service_name}/0",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.SentinelClient",
                "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
                "SENTINELS": [(HOST, servers.sentinel.port)],
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }


@pytest.fixture
def sentinel() -> Iterator[RedisSentinelServers]:
    # Function scope: the failover test changes which server is the master. A service name
    # of its own, because django-redis keeps connection pools per LOCATION for the process.
    name = f"dra-{uuid.uuid4().hex[:8]}"
    with (
        redis_sentinel(name, replicas=1) as servers,
        override_settings(CACHES=sentinel_caches(servers)),
    ):
        yield servers


def test_package_talks_to_the_master_found_by_sentinel(sentinel, user, login, bearer):
    client = store.get_client()
    assert isinstance(client.connection_pool, SentinelConnectionPool)
    pair = login()
    assert bearer(pair["access"]).get("/auth/me/").status_code == 200
    # The session state was written on the master Sentinel names.
    assert sentinel.master.client().dbsize() > 0


def test_revocation_through_sentinel(api, sentinel, user, login, bearer):
    pair, other = login(), login()
    rotated = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200
    reused = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert reused.status_code == 401
    assert bearer(rotated.json()["access"]).get("/auth/me/").status_code == 401

    assert bearer(other["access"]).post("/auth/logout/all/").status_code == 204
    assert bearer(other["access"]).get("/auth/me/").status_code == 401
    assert bearer(login()["access"]).get("/auth/me/").status_code == 200


def test_failover_keeps_replicated_revocations_and_follows_the_new_master(
    sentinel, user, login, bearer
):
    """After a failover the same cached client finds the new master through Sentinel; a
    logout that reached the replica before the failover is still in force, and a live
    session still works."""
    client_before = store.get_client()
    live, logged_out = login(), login()
    assert bearer(logged_out["access"]).post("/auth/logout/").status_code == 204
    # Make sure the replica has every write before it is promoted (see docs/cluster.md on
    # WAIT / min-replicas-to-write: without it a failover can lose the last writes).
    assert sentinel.master.client().wait(1, 2000) == 1

    new_master = sentinel.failover()
    assert new_master.port != sentinel.master.port

    responses = [bearer(live["access"]).get("/auth/me/").status_code for _ in range(2)]
    # The first request may meet a connection the demoted master closed: 503, never 200
    # for a revoked token and never 500; by the second the client has followed Sentinel.
    assert responses[-1] == 200
    assert set(responses) <= {200, 503}
    assert bearer(logged_out["access"]).get("/auth/me/").status_code == 401
    fresh = login()
    assert bearer(fresh["access"]).get("/auth/me/").status_code == 200
    assert store.get_client() is client_before
    assert new_master.client().dbsize() > 0

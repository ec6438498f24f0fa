"""async_store: the asyncio client reaches the same Redis as the synchronous one."""

import asyncio

import pytest
import redis
import redis.asyncio
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from django_redis_auth import async_store, store


def test_derived_client_keeps_the_connection_settings():
    sync = redis.Redis(
        host="10.0.0.7", port=6380, db=3, username="u", password="p", socket_timeout=0.25
    )
    derived = async_store.from_sync(sync)
    kwargs = derived.connection_pool.connection_kwargs
    assert derived.connection_pool.connection_class is redis.asyncio.Connection
    assert {k: kwargs[k] for k in ("host", "port", "db", "username", "password")} == {
        "host": "10.0.0.7",
        "port": 6380,
        "db": 3,
        "username": "u",
        "password": "p",
    }
    assert kwargs["socket_timeout"] == 0.25
    assert "parser_class" not in kwargs and "retry" not in kwargs  # built for sync clients


@pytest.mark.parametrize(
    ("sync", "expected"),
    [
        (redis.Redis(host="h", ssl=True), redis.asyncio.SSLConnection),
        (redis.Redis(unix_socket_path="/tmp/redis.sock"), redis.asyncio.UnixDomainSocketConnection),
    ],
    ids=["tls", "unix"],
)
def test_derived_client_keeps_the_transport(sync, expected):
    assert async_store.from_sync(sync).connection_pool.connection_class is expected


def test_cluster_needs_a_factory():
    from redis.cluster import RedisCluster

    cluster = RedisCluster.__new__(RedisCluster)  # no nodes needed to refuse it
    with pytest.raises(ImproperlyConfigured, match="ASYNC_REDIS_CLIENT_FACTORY"):
        async_store.from_sync(cluster)


def test_one_client_per_event_loop():
    async def client():
        return async_store.get_client(), async_store.get_client()

    first, again = async_to_sync(client)()
    assert first is again
    loop = asyncio.new_event_loop()
    try:
        other, _ = loop.run_until_complete(client())
    finally:
        loop.close()
    assert other is not first


@pytest.mark.real
def test_derived_client_reaches_the_same_database(redis_client):
    """The default (no factory): derived from django-redis' client of the test pass."""
    redis_client.set("dra:async-probe", b"1")
    derived = async_store.from_sync(store.get_client())

    async def read():
        try:
            return await derived.get("dra:async-probe")
        finally:
            await derived.aclose()

    assert async_to_sync(read)() == b"1"
    assert settings.REDIS_URL.endswith(str(derived.connection_pool.connection_kwargs["db"]))

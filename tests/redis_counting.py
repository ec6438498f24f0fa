"""The suite's round-trip counting: the package's counting connections
(``django_redis_auth.testing``) plus their fakeredis twins."""

import fakeredis
import fakeredis.aioredis
import redis.asyncio

from django_redis_auth.testing import (
    ROUND_TRIPS,
    AsyncCountingConnection,
    AsyncCountingMixin,
    CountingConnection,
    CountingMixin,
)

__all__ = ["ROUND_TRIPS", "CountingConnection", "CountingFakeConnection", "async_client"]

# FakeConnection became a deprecated factory function; the class is FakeRedisConnection.
FakeConnection = getattr(fakeredis, "FakeRedisConnection", fakeredis.FakeConnection)


class CountingFakeConnection(CountingMixin, FakeConnection):
    pass


class AsyncCountingFakeConnection(AsyncCountingMixin, fakeredis.aioredis.FakeAsyncRedisConnection):
    pass


def async_client():
    """ASYNC_REDIS_CLIENT_FACTORY of the test suite: the pass's own Redis (fakeredis' shared
    server, or the real db) through a connection that counts round trips."""
    from django.conf import settings

    if settings.REAL:
        return redis.asyncio.Redis.from_url(
            settings.REDIS_URL,
            connection_class=AsyncCountingConnection,
            socket_timeout=1,
            socket_connect_timeout=1,
        )
    return fakeredis.aioredis.FakeRedis(
        server=settings.FAKE_REDIS_SERVER, connection_class=AsyncCountingFakeConnection
    )

"""Connection classes that count Redis round trips (one per packet written: a single
command, a pipeline or a MULTI/EXEC block each count once). Deterministic, unlike timing."""

import fakeredis
import fakeredis.aioredis
import redis
import redis.asyncio

# FakeConnection became a deprecated factory function; the class is FakeRedisConnection.
FakeConnection = getattr(fakeredis, "FakeRedisConnection", fakeredis.FakeConnection)


class RoundTrips:
    def __init__(self) -> None:
        self.count = 0
        self.commands: list[bytes] = []

    def reset(self) -> None:
        self.count = 0
        self.commands = []


ROUND_TRIPS = RoundTrips()


def _first_word(packed) -> bytes:
    chunk = packed[0] if isinstance(packed, list | tuple) else packed
    if isinstance(chunk, memoryview):
        chunk = bytes(chunk)
    parts = bytes(chunk).split(b"\r\n")
    return parts[2] if len(parts) > 2 else b""


def _count(command) -> None:
    ROUND_TRIPS.count += 1
    ROUND_TRIPS.commands.append(_first_word(command).upper())


class CountingConnection(redis.Connection):
    def send_packed_command(self, command, check_health=True):
        _count(command)
        return super().send_packed_command(command, check_health)


class CountingFakeConnection(FakeConnection):
    def send_packed_command(self, command, check_health=True):
        _count(command)
        return super().send_packed_command(command, check_health)


class _AsyncCounting:
    """Counts the packets of commands, not of the connection handshake (CLIENT SETINFO):
    an asyncio connection belongs to one event loop, and the tests run each async call on
    a loop of its own, so every call opens a connection a server would keep open."""

    _handshake = False

    async def on_connect_check_health(self, check_health=True):
        self._handshake = True
        try:
            return await super().on_connect_check_health(check_health=check_health)
        finally:
            self._handshake = False

    async def send_packed_command(self, command, check_health=True):
        if not self._handshake:
            _count(command)
        return await super().send_packed_command(command, check_health)


class AsyncCountingConnection(_AsyncCounting, redis.asyncio.Connection):
    pass


class AsyncCountingFakeConnection(_AsyncCounting, fakeredis.aioredis.FakeAsyncRedisConnection):
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

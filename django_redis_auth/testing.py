"""Counting Redis round trips, for tests (this package's, and yours).

A round trip is one packet written: a single command, a pipeline or a MULTI/EXEC block each
count once. Counts are deterministic where timings are not, so "an authenticated request
costs one ``MGET``" can be asserted. Put :class:`CountingConnection` in your cache's
``CONNECTION_POOL_KWARGS["connection_class"]`` (or :class:`AsyncCountingConnection` in an
``ASYNC_REDIS_CLIENT_FACTORY``'s client), then::

    ROUND_TRIPS.reset()
    client.get("/api/thing/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert ROUND_TRIPS.commands == [b"MGET"]
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio

__all__ = [
    "ROUND_TRIPS",
    "AsyncCountingConnection",
    "AsyncCountingMixin",
    "CountingConnection",
    "CountingMixin",
    "RoundTrips",
]


class RoundTrips:
    """Round trips (``count``) and each one's first command word (``commands``, upper-case
    bytes) since the last :meth:`reset`. ``enabled = False`` stops counting (benchmarks
    switch it off around timed loops)."""

    def __init__(self) -> None:
        self.enabled = True
        self.count = 0
        self.commands: list[bytes] = []

    def reset(self) -> None:
        self.count = 0
        self.commands = []

    def add(self, packed: Any) -> None:
        if not self.enabled:
            return
        self.count += 1
        self.commands.append(_first_word(packed))


ROUND_TRIPS = RoundTrips()


def _first_word(packed: Any) -> bytes:
    chunk = packed[0] if isinstance(packed, list | tuple) else packed
    parts = bytes(chunk).split(b"\r\n", 3)
    return parts[2].upper() if len(parts) > 2 else b""


class CountingMixin:
    """For a redis-py (or fakeredis) connection class: counts into ``counter`` (a class
    attribute, :data:`ROUND_TRIPS` unless a subclass brings its own)."""

    counter: RoundTrips = ROUND_TRIPS

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        self.counter.add(command)
        return super().send_packed_command(command, check_health)  # type: ignore[misc]


class CountingConnection(CountingMixin, redis.Connection):
    pass


class AsyncCountingMixin:
    """The asyncio twin. The connection handshake (``CLIENT SETINFO``, ``SELECT``) is not
    counted: an asyncio connection belongs to one event loop, and a test that runs each call
    on a loop of its own opens a connection a server's loop would keep open."""

    counter: RoundTrips = ROUND_TRIPS
    _handshake = False

    async def on_connect_check_health(self, check_health: bool = True) -> None:
        self._handshake = True
        try:
            await super().on_connect_check_health(check_health=check_health)  # type: ignore[misc]
        finally:
            self._handshake = False

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if not self._handshake:
            self.counter.add(command)
        return await super().send_packed_command(command, check_health)  # type: ignore[misc]


class AsyncCountingConnection(AsyncCountingMixin, redis.asyncio.Connection):
    pass

"""A redis-py connection class that counts round trips, switched on only while counting.

One packet written is one round trip: a single command, a pipeline and a MULTI/EXEC block
each count once. Counting is off during timed loops (one attribute check per packet), so it
adds nothing measurable to the timings.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio


class Counter:
    def __init__(self) -> None:
        self.enabled = False
        self.count = 0
        self.commands: list[str] = []

    def start(self) -> None:
        self.enabled, self.count, self.commands = True, 0, []

    def stop(self) -> None:
        self.enabled = False


COUNTER = Counter()


def _first_word(packed: Any) -> str:
    chunk = packed[0] if isinstance(packed, list | tuple) else packed
    parts = bytes(chunk).split(b"\r\n", 3)
    return parts[2].decode(errors="replace").upper() if len(parts) > 2 else "?"


class CountingConnection(redis.Connection):
    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if COUNTER.enabled:
            COUNTER.count += 1
            COUNTER.commands.append(_first_word(command))
        return super().send_packed_command(command, check_health)


class AsyncCountingConnection(redis.asyncio.Connection):
    """Counts a request's round trips, not the handshake of a new connection (CLIENT
    SETINFO, SELECT): the counted in-process request runs on an event loop of its own, so
    it opens a connection that a server's loop keeps open across requests."""

    _handshake = False

    async def on_connect_check_health(self, check_health: bool = True) -> None:
        self._handshake = True
        try:
            await super().on_connect_check_health(check_health=check_health)
        finally:
            self._handshake = False

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if COUNTER.enabled and not self._handshake:
            COUNTER.count += 1
            COUNTER.commands.append(_first_word(command))
        return await super().send_packed_command(command, check_health)


def async_counting_client() -> Any:
    """``ASYNC_REDIS_CLIENT_FACTORY`` for the one-off counted request of the e2e setup."""
    import os

    return redis.asyncio.Redis.from_url(
        os.environ["REDIS_URL"], connection_class=AsyncCountingConnection
    )

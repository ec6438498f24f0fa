"""Round-trip counting for the benchmarks: the package's counting connections
(``django_redis_auth.testing``) with a counter of their own, switched on only while
counting, so timed loops pay one attribute check per packet and nothing else."""

from __future__ import annotations

from typing import Any

import redis.asyncio

from django_redis_auth import testing

__all__ = ["COUNTER", "AsyncCountingConnection", "CountingConnection", "async_counting_client"]


class Counter(testing.RoundTrips):
    """``start()`` … ``stop()`` around the counted call; ``count``, and ``names()`` (str)."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled = False

    def start(self) -> None:
        self.reset()
        self.enabled = True

    def stop(self) -> None:
        self.enabled = False

    def names(self) -> list[str]:
        return [c.decode(errors="replace") or "?" for c in self.commands]


COUNTER = Counter()


class CountingConnection(testing.CountingConnection):
    counter = COUNTER


class AsyncCountingConnection(testing.AsyncCountingConnection):
    counter = COUNTER


def async_counting_client() -> Any:
    """``ASYNC_REDIS_CLIENT_FACTORY`` for the one-off counted request of the e2e setup."""
    import os

    return redis.asyncio.Redis.from_url(
        os.environ["REDIS_URL"], connection_class=AsyncCountingConnection
    )

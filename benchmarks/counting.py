"""A redis-py connection class that counts round trips, switched on only while counting.

One packet written is one round trip: a single command, a pipeline and a MULTI/EXEC block
each count once. Counting is off during timed loops (one attribute check per packet), so it
adds nothing measurable to the timings.
"""

from __future__ import annotations

from typing import Any

import redis


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

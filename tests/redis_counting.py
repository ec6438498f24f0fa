"""Connection classes that count Redis round trips (one per packet written: a single
command, a pipeline or a MULTI/EXEC block each count once). Deterministic, unlike timing."""

import fakeredis
import redis

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

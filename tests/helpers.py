"""Helpers shared by several test modules."""

from __future__ import annotations

from typing import Any


def window_count(client: Any, key: str, field: str) -> int:
    """What a sliding-hour count field of a limits hash holds (``"slice:count ..."``,
    lua/limits.lib.lua), summed over its slices; 0 when the field is absent."""
    raw = client.hget(key, field)
    if not raw:
        return 0
    return sum(int(pair.split(b":")[1]) for pair in raw.split())

"""A small bounded per-process memo, for results that depend only on their key's bytes.

Used where the same input comes back on request after request (a cached user entry, an
access token) and recomputing its result costs more than the Redis round trip it rides on.
Plain dict operations are atomic under the GIL, so no lock is taken on the hot path; when
full, the oldest entry goes (dicts keep insertion order).
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable
from typing import Any


class BoundedMemo:
    __slots__ = ("_entries", "max_entries")

    def __init__(self, max_entries: int) -> None:
        self._entries: dict[Hashable, Any] = {}
        self.max_entries = max_entries

    def get(self, key: Hashable) -> Any | None:
        return self._entries.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        limit = self.max_entries  # read once: another thread may change it
        if limit <= 0:
            return
        entries = self._entries
        while entries and len(entries) >= limit:
            # Another thread may be evicting the same entry.
            with contextlib.suppress(KeyError, StopIteration, RuntimeError):
                del entries[next(iter(entries))]
        entries[key] = value

    def discard(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

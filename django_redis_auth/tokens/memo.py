"""A small bounded per-process memo, for results that depend only on their key's bytes.

Used where the same input comes back on request after request (a cached user entry, an
access token) and recomputing its result costs more than looking it up. When full, the
oldest entry goes. An ``OrderedDict`` because that eviction is O(1) there: a plain dict
emptied from the front has to step over the holes its deletions left, which made each
insertion into a full 4,096-entry memo cost ~1.8 µs instead of ~0.4 µs (many users' tokens
cycled: a miss and an insertion on every request). Its operations are C calls, atomic under
the GIL, so no lock is taken on the hot path.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class BoundedMemo:
    __slots__ = ("_entries", "max_entries")

    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.max_entries = max_entries

    def get(self, key: Hashable) -> Any | None:
        return self._entries.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        limit = self.max_entries  # read once: another thread may change it
        if limit <= 0:
            return
        entries = self._entries
        while len(entries) >= limit:
            # Another thread may have emptied it in between.
            with contextlib.suppress(KeyError):
                entries.popitem(last=False)
        entries[key] = value

    def discard(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

"""Results computed from the rollups, kept until the rollups change.

The key of every entry starts with the rollup generation (`rollup_read.generation`, a counter the
database bumps on every write to the rollup tables, whoever writes), so a refresh or a backfill
makes the old entries unreachable at once; there is no time-based expiry to tune. Entries are
per process and bounded (least recently used out). Only what is derived from the rollups alone
belongs here: anything reading tickets live (lists, overdue now, the quality checks) does not.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from gridbot.models.metrics.rollup_read import generation

T = TypeVar("T")


class ResultCache:
    """A bounded LRU of results keyed by (rollup generation, what was asked)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, session: Session, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """The cached result for `key` at the current generation, computing (and keeping) it on a miss."""
        full = (generation(session), *key)
        with self._lock:
            if full in self._entries:
                self._entries.move_to_end(full)
                self.hits += 1
                return self._entries[full]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self.misses += 1
            self._entries[full] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

"""Bounded, resizable memos of per-message work (a long-running bot must not grow with what it read).

`functools.lru_cache` is bounded too, but its size is fixed at import; these are sized from the
settings when the bot starts (`NLPSettings.duplicate_cache`, `NLPSettings.text_cache`) through
`configure`, and `nlp/` stays free of the settings module.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, NamedTuple, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class MemoInfo(NamedTuple):
    """Hits, misses, the bound and the entries held now (as `functools.lru_cache`'s cache_info)."""

    hits: int
    misses: int
    maxsize: int
    currsize: int


class Memo(Generic[K, V]):
    """A least-recently-used memo of a function of one hashable argument, at most `maxsize` entries.

    Thread-safe (classification runs in worker threads); the function itself runs outside the lock,
    so two threads missing on one key may both compute it, and the later result is kept.
    """

    def __init__(self, fn: Callable[[K], V], maxsize: int) -> None:
        self.__wrapped__ = fn
        self.__doc__ = fn.__doc__
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._maxsize = max(0, maxsize)
        self._hits = self._misses = 0

    def __call__(self, key: K) -> V:
        with self._lock:
            try:
                value = self._data[key]
            except KeyError:
                self._misses += 1
            else:
                self._data.move_to_end(key)
                self._hits += 1
                return value
        value = self.__wrapped__(key)
        with self._lock:
            if self._maxsize:
                self._data[key] = value
                self._trim()
        return value

    def _trim(self) -> None:
        while len(self._data) > self._maxsize:
            self._data.popitem(last=False)

    def resize(self, maxsize: int) -> None:
        """Hold at most `maxsize` entries from now on (0: remember nothing); the oldest go first."""
        with self._lock:
            self._maxsize = max(0, maxsize)
            self._trim()

    def cache_clear(self) -> None:
        """Forget every entry and the counts."""
        with self._lock:
            self._data.clear()
            self._hits = self._misses = 0

    def cache_info(self) -> MemoInfo:
        """Hits, misses, bound and size."""
        with self._lock:
            return MemoInfo(self._hits, self._misses, self._maxsize, len(self._data))


def memo(maxsize: int) -> Callable[[Callable[[K], V]], Memo[K, V]]:
    """Decorate a function of one hashable argument with a bounded, resizable `Memo`."""

    def wrap(fn: Callable[[K], V]) -> Memo[K, V]:
        return Memo(fn, maxsize)

    return wrap


DUPLICATE_CACHE = 512  # open tickets' stored features, parsed (≈ 6 KB each)
TEXT_CACHE = 256  # messages' duplicate features, by text (≈ 5 KB each)

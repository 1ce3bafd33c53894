"""Per-token fixed-window rate limiting: shared through Redis when configured, in-process otherwise.

A Redis failure degrades to the in-process counter (logged once), never to an error for the client:
the limit protects the database, it is not a security boundary.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

logger = logging.getLogger(__name__)
WINDOW_S = 60


class RateLimiter(Protocol):
    """Counts hits of a key in the current window."""

    def hit(self, key: str, limit: int) -> int:
        """Record one hit; 0 when allowed, else the seconds until the window resets."""


class LocalRateLimiter:
    """Fixed windows counted in this process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._mutex = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}

    def hit(self, key: str, limit: int) -> int:
        """Record one hit; 0 when allowed, else the seconds until the window resets."""
        now = self._clock()
        window = int(now // WINDOW_S)
        with self._mutex:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
        return 0 if count <= limit else max(1, int((window + 1) * WINDOW_S - now) + 1)


class RedisRateLimiter:
    """Fixed windows in Redis (INCR + EXPIRE), shared by every API instance."""

    def __init__(self, url: str, prefix: str = "gridbot:", timeout_s: float = 1.0) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._prefix = prefix
        self._local = LocalRateLimiter()
        self._degraded = False

    def hit(self, key: str, limit: int) -> int:
        """Record one hit; 0 when allowed, else the seconds until the window resets."""
        now = time.time()
        window = int(now // WINDOW_S)
        rkey = f"{self._prefix}ratelimit:{key}:{window}"
        try:
            pipe = self._redis.pipeline()
            pipe.incr(rkey)
            pipe.expire(rkey, WINDOW_S + 5)
            count = int(pipe.execute()[0])
        except self._errors as exc:
            if not self._degraded:
                logger.warning(
                    "Redis unavailable for rate limiting (%s): counting in-process", type(exc).__name__
                )
                self._degraded = True
            return self._local.hit(key, limit)
        self._degraded = False
        return 0 if count <= limit else max(1, int((window + 1) * WINDOW_S - now) + 1)

    def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(self._redis.ping())
        except self._errors:
            return False

    def close(self) -> None:
        """Release the connection pool."""
        self._redis.close()

"""Coordination between bot instances: a lock, an inbound de-dup fast path, a shared send pacer.

With Redis configured, instances share these through Redis; without it, LocalCoordinator gives
the same behaviour inside one process. Redis is never the only copy of anything: the database
(UNIQUE keys, row locks, status columns) is the real guard, so losing Redis state (a flush, an
outage) can make work happen sooner or twice-attempted, never lost or sent twice.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

from gridbot.models.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")
# The in-process de-dup fast path is bounded: it only saves a database lookup, the UNIQUE key decides.
SEEN_MAX = 20_000
# Next to Redis the local copy only bridges a Redis outage for redeliveries of the last minute (a
# reconnecting puppet redelivers within seconds); it plateaus at a minute of traffic, not SEEN_MAX.
LOCAL_SEEN_TTL_S = 60.0

_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"
_EXTEND = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) "
    "else return 0 end"
)
# Reserve the next send slot on every key at once; server time, so instances with skewed
# clocks agree. Returns the wait in milliseconds.
_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local start = now
for _, k in ipairs(KEYS) do
  local v = tonumber(redis.call('GET', k) or '0')
  if v > start then start = v end
end
for _, k in ipairs(KEYS) do
  redis.call('SET', k, start + interval, 'PX', start + interval - now + 1000)
end
return start - now
"""


class LockHandle(Protocol):
    """A lock attempt: whether it is held, and a way to keep it during long work."""

    @property
    def acquired(self) -> bool:
        """Whether this attempt holds the lock."""

    def extend(self, ttl_s: float) -> bool:
        """Push the expiry `ttl_s` from now; False if the lock was lost meanwhile."""


class Coordinator(Protocol):
    """What instances share; RedisCoordinator and LocalCoordinator behave the same."""

    def lock(self, name: str, ttl_s: float) -> AbstractContextManager[LockHandle]:
        """A context manager yielding a LockHandle; acquiring never blocks."""

    def seen_message(self, platform_id: str) -> bool:
        """True if this inbound message id was remembered as finished (a fast path only)."""

    def remember_message(self, platform_id: str, ttl_s: float = 86400.0) -> None:
        """Remember a message id once its handling is committed (never before: a crash would lose it)."""

    def acquire_send_slot(self, account: str, room: str | None, min_interval_s: float) -> float:
        """Reserve the next send slot for this account and room; seconds to wait first (0: now)."""


class _LocalLock:
    def __init__(self, owner: LocalCoordinator, name: str, token: str, acquired: bool) -> None:
        self._owner, self._name, self._token, self._acquired = owner, name, token, acquired

    @property
    def acquired(self) -> bool:
        return self._acquired

    def extend(self, ttl_s: float) -> bool:
        return self._acquired and self._owner._extend(self._name, self._token, ttl_s)


class LocalCoordinator:
    """In-process coordination (SQLite deployments, tests, and the fallback when Redis is down)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._mutex = threading.Lock()
        self._locks: dict[str, tuple[str, float]] = {}
        self._seen: OrderedDict[str, float] = OrderedDict()  # oldest first, at most SEEN_MAX ids
        self._slots: dict[str, float] = {}

    @contextmanager
    def lock(self, name: str, ttl_s: float) -> Iterator[LockHandle]:
        """Non-blocking acquire of a named lock with a TTL; released on exit if still ours."""
        token = uuid.uuid4().hex
        with self._mutex:
            now = self._clock()
            held = self._locks.get(name)
            acquired = held is None or held[1] <= now
            if acquired:
                self._locks[name] = (token, now + ttl_s)
        try:
            yield _LocalLock(self, name, token, acquired)
        finally:
            if acquired:
                with self._mutex:
                    if self._locks.get(name, ("", 0.0))[0] == token:
                        del self._locks[name]

    def _extend(self, name: str, token: str, ttl_s: float) -> bool:
        with self._mutex:
            if self._locks.get(name, ("", 0.0))[0] != token:
                return False
            self._locks[name] = (token, self._clock() + ttl_s)
            return True

    def seen_message(self, platform_id: str) -> bool:
        """True if remembered and not expired."""
        with self._mutex:
            expiry = self._seen.get(platform_id)
            return expiry is not None and expiry > self._clock()

    def remember_message(self, platform_id: str, ttl_s: float = 86400.0) -> None:
        """Remember the id for `ttl_s` seconds; expired ids and the oldest beyond SEEN_MAX are dropped."""
        with self._mutex:
            seen, now = self._seen, self._clock()
            seen[platform_id] = now + ttl_s
            seen.move_to_end(platform_id)
            # oldest first: with one TTL in use the front expires first, so this drops every expired id
            while seen and (len(seen) > SEEN_MAX or next(iter(seen.values())) <= now):
                seen.popitem(last=False)

    @property
    def remembered(self) -> int:
        """How many message ids the fast path holds now (its memory)."""
        with self._mutex:
            return len(self._seen)

    def acquire_send_slot(self, account: str, room: str | None, min_interval_s: float) -> float:
        """Reserve the next slot shared by the account and the room; seconds to wait."""
        keys = [f"acct:{account}"] + ([f"room:{room}"] if room else [])
        with self._mutex:
            now = self._clock()
            start = max([now] + [self._slots.get(k, 0.0) for k in keys])
            for k in keys:
                self._slots[k] = start + min_interval_s
            return start - now


class _RedisLock:
    def __init__(self, owner: RedisCoordinator, key: str, token: str, acquired: bool) -> None:
        self._owner, self._key, self._token, self._acquired = owner, key, token, acquired

    @property
    def acquired(self) -> bool:
        return self._acquired

    def extend(self, ttl_s: float) -> bool:
        if not self._acquired:
            return False
        ms = int(ttl_s * 1000)
        return bool(self._owner._call(lambda r: r.eval(_EXTEND, 1, self._key, self._token, ms), lambda: 0))


class RedisCoordinator:
    """Coordination through Redis, shared by every instance; degrades to local on Redis errors."""

    def __init__(self, url: str, prefix: str = "gridbot:", *, timeout_s: float = 2.0) -> None:
        import redis  # imported here: Redis is optional and clients are never built at import time

        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True
        )
        self._prefix = prefix
        self._local = LocalCoordinator()
        self._degraded = False

    def close(self) -> None:
        """Release the connection pool."""
        self._redis.close()

    def _call(self, op: Callable[[Any], T], fallback: Callable[[], T]) -> T:
        try:
            result = op(self._redis)
        except self._errors as exc:
            if not self._degraded:
                logger.warning("Redis unavailable (%s): coordinating in-process only", type(exc).__name__)
                self._degraded = True
            return fallback()
        if self._degraded:
            logger.info("Redis reachable again: coordinating through Redis")
            self._degraded = False
        return result

    @contextmanager
    def lock(self, name: str, ttl_s: float) -> Iterator[LockHandle]:
        """SET NX PX with a random token; released by a Lua compare-and-delete."""
        key, token = f"{self._prefix}lock:{name}", uuid.uuid4().hex
        ms = int(ttl_s * 1000)
        sentinel: list[bool] = []

        def fallback() -> bool:
            sentinel.append(True)
            return False

        acquired = bool(self._call(lambda r: r.set(key, token, nx=True, px=ms), fallback))
        if sentinel:  # Redis down: the in-process lock at least serialises this process
            with self._local.lock(name, ttl_s) as local:
                yield local
            return
        try:
            yield _RedisLock(self, key, token, acquired)
        finally:
            if acquired:
                self._call(lambda r: r.eval(_RELEASE, 1, key, token), lambda: 0)

    def seen_message(self, platform_id: str) -> bool:
        """EXISTS on the message's key."""
        key = f"{self._prefix}seen:{platform_id}"
        return self._call(lambda r: bool(r.exists(key)), lambda: self._local.seen_message(platform_id))

    def remember_message(self, platform_id: str, ttl_s: float = 86400.0) -> None:
        """SET EX on the message's key (and in-process, so a Redis outage keeps the fast path)."""
        key = f"{self._prefix}seen:{platform_id}"
        self._local.remember_message(platform_id, min(ttl_s, LOCAL_SEEN_TTL_S))
        self._call(lambda r: r.set(key, "1", ex=max(1, int(ttl_s))), lambda: None)

    def acquire_send_slot(self, account: str, room: str | None, min_interval_s: float) -> float:
        """A Lua script reserves the slot atomically on the account and room keys."""
        keys = [f"{self._prefix}slot:acct:{account}"]
        if room:
            keys.append(f"{self._prefix}slot:room:{room}")
        ms = int(min_interval_s * 1000)
        wait_ms = self._call(
            lambda r: int(r.eval(_SLOT, len(keys), *keys, ms)),
            lambda: int(self._local.acquire_send_slot(account, room, min_interval_s) * 1000),
        )
        return wait_ms / 1000.0


def make_coordinator(settings: Settings) -> Coordinator:
    """Redis when `settings.redis.url` is set, in-process otherwise."""
    if settings.redis.url:
        return RedisCoordinator(settings.redis.url, settings.redis.key_prefix)
    return LocalCoordinator()

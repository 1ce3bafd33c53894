"""Rooms in parallel, each room in order: no group waits behind another group's burst.

A transport submits messages as they arrive; one worker per room with queued messages hands them to
the handler one at a time (arrival order within the room), and at most `max_rooms` handler calls
run at once. A busy room takes a slot per message, so quiet rooms get their turn between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from gridbot.handlers.types import IncomingMessage

logger = logging.getLogger(__name__)
T = TypeVar("T")


def room_key(msg: IncomingMessage) -> str:
    """The queue a message belongs to: its room, or the private chat with its sender."""
    return msg.room_id or f"private:{msg.sender_id}"


class RoomDispatcher(Generic[T]):
    """Per-room FIFO queues drained concurrently under a bound."""

    def __init__(self, handler: Callable[[T], Awaitable[object]], max_rooms: int = 8) -> None:
        self._handler = handler
        self._slots = asyncio.Semaphore(max_rooms)
        self._queues: dict[str, asyncio.Queue[T]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, key: str, item: T) -> None:
        """Queue one item behind the earlier ones of its room `key` (never blocks)."""
        queue = self._queues.setdefault(key, asyncio.Queue())
        queue.put_nowait(item)
        if key not in self._workers:
            self._idle.clear()
            self._workers[key] = asyncio.create_task(self._drain(key, queue))

    async def _drain(self, key: str, queue: asyncio.Queue[T]) -> None:
        try:
            while not queue.empty():
                item = queue.get_nowait()
                async with self._slots:
                    try:
                        await self._handler(item)
                    except Exception:
                        logger.exception("handler failed on an item of room %s", key)
        finally:
            # no await between the emptiness check above and this: submit() cannot slip in between
            self._workers.pop(key, None)
            if queue.empty():
                self._queues.pop(key, None)
            if not self._workers:
                self._idle.set()

    @property
    def backlog(self) -> int:
        """Messages waiting in all rooms."""
        return sum(q.qsize() for q in self._queues.values())

    async def join(self) -> None:
        """Wait until every queued message has been handled."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop the workers (messages still queued are dropped; they are redelivered or recovered)."""
        for task in list(self._workers.values()):
            task.cancel()
        for task in list(self._workers.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        self._queues.clear()
        self._idle.set()

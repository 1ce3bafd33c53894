"""Rooms in parallel, each room in order: no group waits behind another group's burst.

`RoomDispatcher`: one worker per room with queued items hands them to the handler one at a time
(arrival order within the room), and at most `max_rooms` handler calls run at once. A busy room
takes a slot per item, so quiet rooms get their turn between them.

`BatchDispatcher` (`MessageDispatcher` for inbound messages, every transport's `on_message` in
`bot.app.serve`): the same per-room order, but what waits is handed over in micro-batches
(`Conversation.handle_batch`), so a burst costs one transaction per batch instead of per message,
while a lone message still goes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from gridbot.handlers.types import IncomingMessage, Outcome

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


R = TypeVar("R")
Pending = tuple[str, T, asyncio.Future[R]]  # (room, item, its result)
OVERLOAD = 4  # the oldest item waiting this many budgets: take batch_max again (throughput first)


class BatchDispatcher(Generic[T, R]):
    """Per-room FIFO queues drained in micro-batches: what waits goes together, a lone item at once.

    `submit` queues an item and returns a future of its result. Whenever fewer than `max_batches`
    batches run, the items waiting are taken (at most `batch_max`, a fair share of each room, a
    room's items in arrival order) and handed to `handler` in one call, which returns one result an
    item, in order. Nothing waits to fill a batch: an item that finds a free batch goes alone at
    once, and items arriving while batches run wait only for one to finish, then go together. A room
    is in at most one running batch, so its items are handled in arrival order. A batch that raises
    is handled again one item at a time, so one failing item fails alone (items already handled are
    no-ops the second time: the conversation's UNIQUE platform id).

    With a `budget_s`, a batch is also capped at what fits that time at the recent cost per item
    (the handler's time over its items, smoothed), since a batch's first item is answered only when
    its last is done: under a burst, batches of a budget's worth rather than of `batch_max`. Once
    the oldest item has waited `OVERLOAD` budgets the queue is not keeping up, and batches go back
    to `batch_max`, whose lower cost per item drains it sooner.
    """

    def __init__(
        self,
        handler: Callable[[list[T]], Awaitable[Sequence[R]]],
        batch_max: int = 50,
        max_batches: int = 1,
        budget_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._handler = handler
        self._batch_max = max(1, batch_max)
        self._max_batches = max(1, max_batches)
        self._budget_s = budget_s or None
        self._clock = clock
        self._per_item: float | None = None  # recent handler time per item, seconds (smoothed)
        # oldest waiting room first; each item with its future and when it arrived
        self._queues: dict[str, deque[tuple[T, asyncio.Future[R], float]]] = {}
        self._busy: set[str] = set()  # rooms with a batch running
        self._running: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.batches = 0  # batches handed to the handler (with `items`, the mean batch size)
        self.items = 0

    def submit(self, key: str, item: T) -> asyncio.Future[R]:
        """Queue `item` behind the earlier ones of room `key` (never blocks); its result, later."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(key, deque()).append((item, future, self._clock()))
        self._idle.clear()
        self._start()
        return future

    def _start(self) -> None:
        while len(self._running) < self._max_batches and (batch := self._take()):
            self._running.add(asyncio.create_task(self._run(batch)))

    def _cap(self, ready: list[str]) -> int:
        """At most this many items in the next batch: `batch_max`, or a budget's worth."""
        if self._budget_s is None or self._per_item is None or not ready:
            return self._batch_max
        oldest = min(self._queues[key][0][2] for key in ready)
        if self._clock() - oldest >= OVERLOAD * self._budget_s:
            return self._batch_max
        return max(1, min(self._batch_max, int(self._budget_s / self._per_item)))

    def _take(self) -> list[Pending[T, R]]:
        """The next batch: rooms not running, one item of each in turn, oldest waiting room first."""
        ready = [key for key in self._queues if key not in self._busy]
        cap = self._cap(ready)
        batch: list[Pending[T, R]] = []
        while ready and len(batch) < cap:
            for key in list(ready):
                queue = self._queues[key]
                item, future, _ = queue.popleft()
                batch.append((key, item, future))
                if not queue:
                    ready.remove(key)
                    del self._queues[key]
                if len(batch) >= cap:
                    break
        for key in {key for key, _, _ in batch}:
            self._busy.add(key)
            if key in self._queues:  # still waiting: behind the rooms that got nothing this time
                self._queues[key] = self._queues.pop(key)
        return batch

    async def _run(self, batch: list[Pending[T, R]]) -> None:
        self.batches += 1
        self.items += len(batch)
        began = self._clock()
        try:
            await self._settle(batch)
            per_item = (self._clock() - began) / len(batch)
            self._per_item = per_item if self._per_item is None else 0.7 * self._per_item + 0.3 * per_item
        except Exception:  # the one-at-a-time retry failed outside the handler: never in practice
            logger.exception("a batch of %d could not be settled", len(batch))
        except BaseException as exc:  # the process dying mid-batch (tests): its callers see it
            for _, _, future in batch:
                if not future.done() and not isinstance(exc, asyncio.CancelledError):
                    future.set_exception(exc)
            raise
        finally:
            for key, _, future in batch:
                self._busy.discard(key)
                if not future.done():  # cancelled (close): the transport delivers it again
                    future.cancel()
            # before the callers waiting on this batch resume: what they submit next sees a free slot
            self._running.discard(asyncio.current_task())
            self._start()
            if not self._running and not self._queues:
                self._idle.set()

    async def _settle(self, batch: list[Pending[T, R]]) -> None:
        try:
            results = await self._handler([item for _, item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _set(batch[0][2], exc=exc)
                return
            logger.warning("a batch of %d failed (%s): one item at a time", len(batch), type(exc).__name__)
            for one in batch:
                await self._settle([one])
            return
        for (_, _, future), result in zip(batch, results, strict=True):
            _set(future, result=result)

    @property
    def backlog(self) -> int:
        """Items waiting in all rooms (not counting those in running batches)."""
        return sum(len(q) for q in self._queues.values())

    async def join(self) -> None:
        """Wait until every queued item has been handled."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop: running batches are cancelled and waiting items dropped (their futures cancelled)."""
        waiting = [future for queue in self._queues.values() for _, future, _ in queue]
        self._queues.clear()
        for future in waiting:
            future.cancel()
        running = list(self._running)
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._idle.set()


def _set(future: asyncio.Future[R], result: R | None = None, exc: Exception | None = None) -> None:
    if future.done():  # its caller gave up on it (cancelled)
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]


class MessageDispatcher(BatchDispatcher[IncomingMessage, Outcome]):
    """Inbound messages in micro-batches (`Conversation.handle_batch`), as a transport's `on_message`."""

    def handle(self, msg: IncomingMessage) -> asyncio.Future[Outcome]:
        """Queue `msg` at the call (call order is arrival order); awaited, its outcome once handled."""
        return self.submit(room_key(msg), msg)

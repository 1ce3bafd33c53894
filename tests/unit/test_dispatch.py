"""Rooms in parallel, each room in order (bot.dispatch.RoomDispatcher)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from gridbot.bot.dispatch import MessageDispatcher, RoomDispatcher, room_key
from gridbot.handlers.types import IncomingMessage

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def msg(room: str, n: int) -> IncomingMessage:
    return IncomingMessage(f"{room}-{n}", room, "wx-x", "x", f"text {n}", NOW)


def submit(dispatcher: RoomDispatcher[IncomingMessage], m: IncomingMessage) -> None:
    dispatcher.submit(room_key(m), m)


def test_a_stuck_room_does_not_hold_up_another_and_each_room_keeps_its_order() -> None:
    async def main() -> list[str]:
        handled: list[str] = []
        b_done = asyncio.Event()

        async def handler(m: IncomingMessage) -> None:
            if m.platform_id == "A-0":
                await b_done.wait()  # room A's first message waits until room B was answered
            handled.append(m.platform_id)
            if m.room_id == "B" and len([h for h in handled if h.startswith("B")]) == 2:
                b_done.set()

        dispatcher: RoomDispatcher[IncomingMessage] = RoomDispatcher(handler, max_rooms=4)
        for i in range(3):
            submit(dispatcher, msg("A", i))
        for i in range(2):
            submit(dispatcher, msg("B", i))
        await asyncio.wait_for(dispatcher.join(), 5)  # one queue for all rooms would never finish
        return handled

    handled = asyncio.run(main())
    assert [h for h in handled if h.startswith("A")] == ["A-0", "A-1", "A-2"]
    assert [h for h in handled if h.startswith("B")] == ["B-0", "B-1"]
    assert handled.index("B-1") < handled.index("A-0")


def test_the_bound_limits_handlers_running_at_once() -> None:
    async def main() -> int:
        running = peak = 0

        async def handler(m: IncomingMessage) -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0)
            running -= 1

        dispatcher: RoomDispatcher[IncomingMessage] = RoomDispatcher(handler, max_rooms=2)
        for room in "ABCDE":
            for i in range(3):
                submit(dispatcher, msg(room, i))
        await asyncio.wait_for(dispatcher.join(), 5)
        assert dispatcher.backlog == 0
        return peak

    assert asyncio.run(main()) == 2


def test_a_failing_message_does_not_stop_its_room() -> None:
    async def main() -> list[str]:
        handled: list[str] = []

        async def handler(m: IncomingMessage) -> None:
            if m.platform_id == "A-0":
                raise RuntimeError("boom")
            handled.append(m.platform_id)

        dispatcher: RoomDispatcher[IncomingMessage] = RoomDispatcher(handler)
        for i in range(2):
            submit(dispatcher, msg("A", i))
        await asyncio.wait_for(dispatcher.join(), 5)
        return handled

    assert asyncio.run(main()) == ["A-1"]


# ---- micro-batches (bot.dispatch.BatchDispatcher / MessageDispatcher) -----------------------------


class Recorder:
    """A batch handler that can be held at its next call; records every batch it is given."""

    def __init__(self, poison: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.entered = asyncio.Event()
        self.poison = poison

    async def __call__(self, items: list[IncomingMessage]) -> list[str]:
        self.batches.append([m.platform_id for m in items])
        self.entered.set()
        await self.hold.wait()
        if self.poison is not None and any(m.platform_id == self.poison for m in items):
            raise RuntimeError("poisoned")  # the whole batch rolls back, as a handler bug would
        return [f"done {m.platform_id}" for m in items]


def test_a_lone_message_goes_at_once_without_waiting_for_company() -> None:
    async def main() -> None:
        handler = Recorder()
        dispatcher = MessageDispatcher(handler, batch_max=50)
        future = dispatcher.handle(msg("A", 0))
        assert dispatcher.backlog == 0  # taken into a batch at the call: no timer, no waiting to fill
        second = dispatcher.handle(msg("B", 0))  # arrives while the first is running: waits for it only
        assert await future == "done A-0" and await second == "done B-0"
        assert handler.batches == [["A-0"], ["B-0"]]

    asyncio.run(main())


def test_what_waits_goes_in_one_batch_and_each_room_keeps_its_order() -> None:
    async def main() -> None:
        handler = Recorder()
        handler.hold.clear()
        dispatcher = MessageDispatcher(handler, batch_max=50)
        first = dispatcher.handle(msg("A", 0))
        await handler.entered.wait()  # A-0 is being handled, held there
        order = [(room, i) for i in range(1, 4) for room in "AB"]
        later = [dispatcher.handle(msg(room, i)) for room, i in order]
        assert dispatcher.backlog == 6
        handler.hold.set()
        results = await asyncio.gather(first, *later)
        assert results == [f"done {r}-{i}" for r, i in [("A", 0), *order]]  # each its own result
        assert handler.batches == [["A-0"], [f"{r}-{i}" for r, i in order]]
        await dispatcher.join()
        assert dispatcher.backlog == 0 and dispatcher.items == 7

    asyncio.run(main())


def test_a_room_is_never_in_two_running_batches() -> None:
    async def main() -> None:
        running: set[str] = set()
        clashes = 0

        async def handler(items: list[IncomingMessage]) -> list[None]:
            nonlocal clashes
            rooms = {m.room_id for m in items}
            clashes += bool(rooms & running)
            running.update(rooms)
            await asyncio.sleep(0)  # let the other batches start meanwhile
            running.difference_update(rooms)
            return [None] * len(items)

        dispatcher = MessageDispatcher(handler, batch_max=3, max_batches=4)
        futures = [dispatcher.handle(msg(room, i)) for i in range(5) for room in "ABCDE"]
        await asyncio.gather(*futures)
        assert clashes == 0 and dispatcher.batches >= 9

    asyncio.run(main())


def test_a_burst_in_one_room_does_not_hold_up_another() -> None:
    async def main() -> None:
        handler = Recorder()
        handler.hold.clear()
        dispatcher = MessageDispatcher(handler, batch_max=4)
        first = dispatcher.handle(msg("X", 0))
        await handler.entered.wait()
        burst = [dispatcher.handle(msg("A", i)) for i in range(20)]
        quiet = dispatcher.handle(msg("B", 0))
        handler.hold.set()
        await asyncio.gather(first, quiet, *burst)
        assert "B-0" in handler.batches[1]  # a fair share of the next batch, not after A's burst

    asyncio.run(main())


def test_a_poisoned_message_fails_alone_and_the_others_are_answered_once() -> None:
    async def main() -> None:
        handler = Recorder(poison="A-1")
        handler.hold.clear()
        dispatcher = MessageDispatcher(handler, batch_max=50)
        first = dispatcher.handle(msg("X", 0))
        await handler.entered.wait()
        rest = [dispatcher.handle(msg(room, i)) for i in range(3) for room in "AB"]
        handler.hold.set()
        results = await asyncio.gather(first, *rest, return_exceptions=True)
        ids = ["X-0"] + [f"{r}-{i}" for i in range(3) for r in "AB"]
        outcome = dict(zip(ids, results, strict=True))
        assert isinstance(outcome.pop("A-1"), RuntimeError)
        assert outcome == {p: f"done {p}" for p in ids if p != "A-1"}
        # the batch with the poison once, then each of its messages alone, in arrival order
        assert handler.batches[1] == ["A-0", "B-0", "A-1", "B-1", "A-2", "B-2"]
        assert handler.batches[2:] == [["A-0"], ["B-0"], ["A-1"], ["B-1"], ["A-2"], ["B-2"]]

    asyncio.run(main())


class Timed(Recorder):
    """A handler that takes 10 ms of a fake clock per item."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    async def __call__(self, items: list[IncomingMessage]) -> list[str]:
        await self.hold.wait()
        self.now += 0.010 * len(items)
        return await super().__call__(items)


def test_under_a_burst_a_batch_holds_what_fits_the_budget_at_the_recent_cost() -> None:
    async def main() -> None:
        handler = Timed()
        dispatcher = MessageDispatcher(handler, batch_max=50, budget_s=0.05, clock=lambda: handler.now)
        await dispatcher.handle(msg("X", 0))  # 10 ms for one: the cost per message is known
        handler.hold.clear()
        first = dispatcher.handle(msg("X", 1))
        await handler.entered.wait()
        burst = [dispatcher.handle(msg(f"R{i}", i)) for i in range(20)]
        handler.hold.set()
        await asyncio.gather(first, *burst)
        # five at 10 ms fit 50 ms: the first message of each batch waits for four others, not 19
        assert [len(b) for b in handler.batches[2:]] == [5] * 4

    asyncio.run(main())


def test_a_queue_falling_behind_its_budget_goes_back_to_full_batches() -> None:
    async def main() -> None:
        handler = Timed()
        dispatcher = MessageDispatcher(handler, batch_max=50, budget_s=0.05, clock=lambda: handler.now)
        await dispatcher.handle(msg("X", 0))
        handler.hold.clear()
        first = dispatcher.handle(msg("X", 1))
        await handler.entered.wait()
        burst = [dispatcher.handle(msg(f"R{i % 20}", i)) for i in range(30)]
        handler.now += 0.2  # the running batch took four budgets: the burst has waited that long
        handler.hold.set()
        await asyncio.gather(first, *burst)
        assert [len(b) for b in handler.batches[2:]] == [30]  # throughput first: all of it at once

    asyncio.run(main())

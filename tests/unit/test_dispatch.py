"""Rooms in parallel, each room in order (bot.dispatch.RoomDispatcher)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from gridbot.bot.dispatch import RoomDispatcher, room_key
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

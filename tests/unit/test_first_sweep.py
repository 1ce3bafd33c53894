"""Start-up: the first deadline sweep waits for the first handled message, never longer than its bound."""

from __future__ import annotations

import anyio

from gridbot.bot.app import _after_first


async def _started(first_set: bool, stop_set: bool, at_most_s: float) -> tuple[bool, float]:
    first, stop, ran = anyio.Event(), anyio.Event(), anyio.Event()
    if stop_set:
        stop.set()

    async def work() -> None:
        ran.set()

    began = anyio.current_time()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_after_first, first, at_most_s, stop, work)
        if first_set:
            first.set()
    return ran.is_set(), anyio.current_time() - began


def test_runs_as_soon_as_the_first_message_is_handled() -> None:
    ran, took = anyio.run(_started, True, False, 60.0)
    assert ran and took < 5.0


def test_runs_after_its_bound_on_a_quiet_start() -> None:
    ran, took = anyio.run(_started, False, False, 0.05)
    assert ran and took >= 0.05


def test_not_run_when_stopped_first() -> None:
    ran, _ = anyio.run(_started, True, True, 60.0)
    assert not ran

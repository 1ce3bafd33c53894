"""The watchdog on a fake clock and a hand-set transport status: states, working-time silence, logging."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import anyio
import pytest

from gridbot.bot.transport import TransportStatus
from gridbot.bot.watchdog import Health, Watchdog
from gridbot.models.entities import BotState
from gridbot.models.tickets.sla import load_policy

SH = ZoneInfo("Asia/Shanghai")
CALENDAR = load_policy().calendar  # 09:00–12:00 and 13:30–18:00, Monday to Friday
SILENCE = timedelta(minutes=120)


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time in 2026 as a UTC instant."""
    return datetime(2026, month, day, hour, minute, tzinfo=SH).astimezone(UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    """A sink keeping every reading."""

    def __init__(self) -> None:
        self.readings: list[tuple[str, Health, datetime]] = []

    def __call__(self, account: str, health: Health, now: datetime) -> None:
        self.readings.append((account, health, now))

    @property
    def states(self) -> list[BotState]:
        return [health.state for _, health, _ in self.readings]


def online() -> TransportStatus:
    return TransportStatus(name="wechaty", connected=True, logged_in=True, bot_id="wxid_bot")


def make(status: TransportStatus, start: datetime) -> tuple[Watchdog, Clock, Recorder]:
    clock, sink = Clock(start), Recorder()
    return Watchdog(status, CALENDAR, SILENCE, sink, clock=clock), clock, sink


def test_logged_in_and_recently_spoken_to_is_online() -> None:
    status = online()
    dog, clock, sink = make(status, local(3, 10, 9))  # a Tuesday
    status.last_message_at = clock.now
    clock.now += timedelta(minutes=30)
    health = dog.check()
    assert health == Health(BotState.ONLINE, True, status.last_message_at, None)
    assert sink.readings == [("wxid_bot", health, clock.now)]


@pytest.mark.parametrize(
    ("connected", "logged_in", "state"),
    [(False, False, BotState.DISCONNECTED), (True, False, BotState.LOGGED_OUT)],
)
def test_disconnected_and_logged_out_are_reported_with_the_reason(
    connected: bool, logged_in: bool, state: BotState
) -> None:
    status = TransportStatus(name="wechaty", connected=connected, logged_in=logged_in, last_error="boom")
    dog, _, sink = make(status, local(3, 10, 9))
    assert dog.check() == Health(state, False, None, "boom")
    assert sink.readings[0][0] == "wechaty"  # no bot id yet: the transport's name


def test_silence_counts_working_time_from_the_start_then_from_the_last_message() -> None:
    status = online()
    dog, clock, sink = make(status, local(3, 10, 9))  # Tuesday 09:00
    clock.now = local(3, 10, 10, 59)
    assert dog.check().state is BotState.ONLINE
    clock.now = local(3, 10, 11)
    assert dog.check().state is BotState.SILENT
    status.last_message_at = local(3, 10, 11, 5)
    clock.now = local(3, 10, 11, 6)
    assert dog.check().state is BotState.ONLINE
    clock.now = local(3, 10, 14, 35)  # 55 min before lunch + 65 min after: 120 working minutes
    assert dog.check().state is BotState.SILENT
    assert sink.states == [BotState.ONLINE, BotState.SILENT, BotState.ONLINE, BotState.SILENT]


def test_nights_and_weekends_are_not_silence() -> None:
    status = online()
    dog, clock, _ = make(status, local(3, 13, 16))  # Friday 16:00
    status.last_message_at = local(3, 13, 17)
    for quiet in (local(3, 13, 23), local(3, 14, 12), local(3, 16, 9, 59)):  # night, Saturday, Monday
        clock.now = quiet
        assert dog.check().state is BotState.ONLINE
    clock.now = local(3, 16, 10)  # Friday 17–18 and Monday 9–10: two working hours
    assert dog.check().state is BotState.SILENT


def test_zero_minutes_turns_the_silence_alert_off() -> None:
    clock, sink = Clock(local(3, 10, 9)), Recorder()
    dog = Watchdog(online(), CALENDAR, timedelta(), sink, clock=clock)
    clock.now = local(3, 20, 9)
    assert dog.check().state is BotState.ONLINE


def test_unchanged_readings_are_written_only_as_a_heartbeat() -> None:
    status = online()
    dog, clock, sink = make(status, local(3, 10, 9))
    for _ in range(3):
        dog.check()
        status.last_message_at = clock.now
        clock.now += timedelta(seconds=10)  # a message every 10 s: not a change worth a write
    assert len(sink.readings) == 1
    clock.now += timedelta(seconds=1)
    dog.check()  # 31 s after the first write: the heartbeat, with the newest message time
    assert [(h.state, h.last_message_at) for _, h, _ in sink.readings][-1] == (
        BotState.ONLINE,
        status.last_message_at,
    )
    assert len(sink.readings) == 2
    status.logged_in = False
    dog.check()
    assert sink.states[-1] is BotState.LOGGED_OUT


def test_each_change_of_state_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    status = online()
    dog, _, sink = make(status, local(3, 10, 9))
    caplog.set_level(logging.INFO, logger="gridbot.bot.watchdog")
    dog.check()
    status.connected = status.logged_in = False
    status.last_error = "cannot reach the puppet service at 127.0.0.1:1"
    dog.check()
    dog.check()
    status.connected = status.logged_in = True
    dog.check()
    assert sink.states == [BotState.ONLINE, BotState.DISCONNECTED, BotState.ONLINE]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "watchdog: bot wxid_bot is disconnected: cannot reach the puppet service at 127.0.0.1:1",
        ),
        ("INFO", "watchdog: bot wxid_bot is back online"),
    ]


@pytest.mark.anyio
async def test_run_survives_a_failing_sink_and_records_the_stop(caplog: pytest.LogCaptureFixture) -> None:
    stop = anyio.Event()
    states: list[BotState] = []

    def flaky(account: str, health: Health, now: datetime) -> None:
        states.append(health.state)
        if health.state is BotState.ONLINE:
            stop.set()
            raise RuntimeError("database is locked")

    dog = Watchdog(online(), CALENDAR, SILENCE, flaky, clock=Clock(local(3, 10, 9)), interval_s=3600)
    with anyio.fail_after(5):
        await dog.run(stop)
    assert states == [BotState.ONLINE, BotState.STOPPED]
    assert "could not record the bot status" in caplog.text

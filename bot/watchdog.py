"""The watchdog: notices when the bot is disconnected, logged out, or hears nothing in working hours.

It reads the transport's `TransportStatus` every second (in memory), logs each change of state once,
and hands a reading to a sink on every change and at least every `heartbeat_s` — by default the
`bot_status` table, which the API reads, so an operator sees a dead or silent bot without reading
logs (and a stale `updated_at` means the bot process itself is gone). Silence is counted in working time of
the SLA work calendar: a quiet night or weekend is not an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from sqlalchemy.orm import Session, sessionmaker

from gridbot.bot.transport import TransportStatus
from gridbot.models.entities import BotState, utcnow
from gridbot.models.messaging import bot_status
from gridbot.models.tickets.calendar import WorkCalendar

logger = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0
HEARTBEAT_S = 30.0


@dataclass(frozen=True)
class Health:
    """One reading of the bot's health."""

    state: BotState
    logged_in: bool
    last_message_at: datetime | None
    last_error: str | None
    login_url: str | None = None


Sink = Callable[[str, Health, datetime], None]


def assess(
    status: TransportStatus, now: datetime, since: datetime, calendar: WorkCalendar, silence: timedelta
) -> Health:
    """The state a transport status means at `now`; quiet time counts from `since` at the earliest."""
    error = status.last_error
    if not status.connected:
        state = BotState.DISCONNECTED
    elif not status.logged_in and status.login_url:
        state, error = BotState.WAITING_SCAN, "waiting for the login QR code to be scanned"
    elif not status.logged_in:
        state = BotState.LOGGED_OUT
    else:
        quiet_since = max(status.last_message_at or since, since)
        silent = silence > timedelta() and calendar.between(quiet_since, now) >= silence
        state = BotState.SILENT if silent else BotState.ONLINE
        error = None if state is BotState.ONLINE else error
    login_url = status.login_url if state is BotState.WAITING_SCAN else None
    return Health(state, status.logged_in, status.last_message_at, error, login_url)


def _essence(health: Health) -> tuple[BotState, bool, str | None]:
    """What a write is due for: a new message time alone waits for the heartbeat."""
    return health.state, health.logged_in, health.last_error or health.login_url


def database_sink(sessions: sessionmaker[Session]) -> Sink:
    """A sink writing each reading to the `bot_status` table."""

    def write(account: str, health: Health, now: datetime) -> None:
        with sessions.begin() as session:
            bot_status.record(
                session,
                account,
                health.state,
                logged_in=health.logged_in,
                last_message_at=health.last_message_at,
                last_error=health.last_error,
                login_url=health.login_url,
                now=now,
            )

    return write


class Watchdog:
    """Checks one transport's status periodically and reports changes."""

    def __init__(
        self,
        status: TransportStatus,
        calendar: WorkCalendar,
        silence: timedelta,
        sink: Sink,
        clock: Callable[[], datetime] = utcnow,
        interval_s: float = CHECK_INTERVAL_S,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self.status = status
        self.calendar = calendar
        self.silence = silence
        self.sink = sink
        self.clock = clock
        self.interval_s = interval_s
        self.heartbeat = timedelta(seconds=heartbeat_s)
        self.started_at = clock()
        self.state: BotState | None = None
        self._reported: tuple[Health, datetime] | None = None

    @property
    def account(self) -> str:
        """The bot account reported on: its WeChat id once logged in, else the transport's name."""
        return self.status.bot_id or self.status.name

    def check(self) -> Health:
        """Assess the status now, log a change of state, and report a change or a due heartbeat."""
        now = self.clock()
        health = assess(self.status, now, self.started_at, self.calendar, self.silence)
        if health.state is not self.state:
            self._log_change(health)
        self.state = health.state
        last = self._reported
        if last is None or _essence(health) != _essence(last[0]) or now - last[1] >= self.heartbeat:
            self.sink(self.account, health, now)
            self._reported = (health, now)
        return health

    def _log_change(self, health: Health) -> None:
        if health.state is BotState.ONLINE:
            if self.state is not None:
                logger.info("watchdog: bot %s is back online", self.account)
        elif health.state is BotState.SILENT:
            minutes = self.silence.total_seconds() / 60
            logger.warning(
                "watchdog: bot %s has received no message for %g working minutes", self.account, minutes
            )
        elif health.state is BotState.WAITING_SCAN:
            logger.warning("watchdog: bot %s is waiting for the login QR code to be scanned", self.account)
        else:
            logger.warning("watchdog: bot %s is %s: %s", self.account, health.state.value, health.last_error)

    def stopped(self) -> None:
        """Record that the bot stopped on purpose."""
        health = Health(BotState.STOPPED, False, self.status.last_message_at, None)
        self.state = health.state
        self.sink(self.account, health, self.clock())

    async def run(self, stop: anyio.Event) -> None:
        """Check every `interval_s` until `stop`, then record STOPPED; never raises into the bot."""
        try:
            while not stop.is_set():
                try:
                    await anyio.to_thread.run_sync(self.check)
                except Exception:  # a database hiccup must not take the bot down with it
                    logger.exception("watchdog: could not record the bot status")
                with anyio.move_on_after(self.interval_s):
                    await stop.wait()
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await anyio.to_thread.run_sync(self.stopped)
                except Exception:
                    logger.exception("watchdog: could not record the stop")

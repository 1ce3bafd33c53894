"""Process wiring: build the runtime from settings, and run a transport with its loops."""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import anyio
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gridbot.bot.dispatch import MessageDispatcher
from gridbot.bot.sender import OutboxSender
from gridbot.bot.transport import Transport
from gridbot.bot.watchdog import Watchdog, database_sink
from gridbot.handlers.conversation import RECOVERY_GRACE_S, Conversation
from gridbot.handlers.spool import Spool
from gridbot.handlers.types import Sender
from gridbot.models import jobs
from gridbot.models.attachments.kit import AttachmentKit
from gridbot.models.db import database_down, make_session_factory
from gridbot.models.entities import utcnow
from gridbot.models.messaging import bot_status
from gridbot.models.messaging.coordination import Coordinator, make_coordinator
from gridbot.models.settings import Settings
from gridbot.models.tickets import sweeper
from gridbot.models.tickets.holidays import coverage_warning
from gridbot.models.tickets.sla import SLAPolicy, load_policy_for
from gridbot.nlp import duplicate_index
from gridbot.nlp.classifier import Classifier, load_classifier
from gridbot.nlp.taxonomy import Taxonomy, load_taxonomy

logger = logging.getLogger(__name__)
RECOVER_INTERVAL_S = 5.0  # how often the spool and interrupted messages are retried
THANKS_INTERVAL_S = 900.0  # how often the monthly thank-you list is checked (it posts once a month)
INCOMING_MAX_AGE_S = 7 * 86400.0  # a download older than this in incoming/ belongs to no message
STOP_GRACE_S = 10.0  # at a stop, how long messages already handed over have to finish


@dataclass
class Runtime:
    """Everything a bot process shares: database, policy, taxonomy, coordinator, the classifier."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    taxonomy: Taxonomy
    policy: SLAPolicy
    coordinator: Coordinator
    classifier: Callable[[], Classifier] = field(repr=False)

    def conversation(
        self, clock: Callable[[], datetime] = utcnow, spool: Spool | None = None
    ) -> Conversation:
        """The conversation handler over this runtime."""
        return Conversation(
            self.sessions,
            self.classifier,
            self.taxonomy,
            self.policy,
            self.coordinator,
            self.settings.nlp,
            clock,
            spool,
            self.settings.fair_use,
            AttachmentKit.from_settings(self.settings.attachments),
        )

    def sender(self, transport: Sender, clock: Callable[[], datetime] = utcnow, **kw: Any) -> OutboxSender:
        """The outbox sender of this instance over `transport`."""
        return OutboxSender(
            self.sessions,
            transport,
            self.coordinator,
            self.settings.outbox,
            clock,
            instance_id=self.settings.instance_id,
            **kw,
        )

    def sweep(self, now: datetime) -> sweeper.SweepResult:
        """One deadline sweep, then close tickets whose rating window passed."""
        return jobs.sweep_deadlines(
            self.sessions, self.policy, self.coordinator, now, self.settings.sla.sweep_batch_size
        )

    def refresh_rollups(self, since: datetime, now: datetime) -> bool:
        """Bring the metric rollups up to date with what changed since `since` (one instance at a time)."""
        return jobs.refresh_changed_rollups(self.sessions, self.coordinator, since, now) is not None

    def post_thanks(self, now: datetime) -> int:
        """Queue last month's thank-you lists when due (one instance at a time); lists queued."""
        return (
            jobs.post_monthly_thanks(self.sessions, self.coordinator, now, self.settings.participation) or 0
        )

    def purge_text(self, now: datetime) -> int:
        """Blank message text past the retention period (one instance at a time); rows purged."""
        days = self.settings.retention.message_text_days
        if not days:
            return 0
        return jobs.purge_text(self.sessions, self.coordinator, now, days) or 0

    def purge_attachments(self, now: datetime) -> int:
        """Delete attachments (files and rows) past their retention period; rows deleted."""
        days = self.settings.retention.attachment_days_effective
        if not days:
            return 0
        store = AttachmentKit.from_settings(self.settings.attachments).store
        store.sweep_incoming(INCOMING_MAX_AGE_S)
        done = jobs.purge_attachments(self.sessions, self.coordinator, store, now, days)
        return done[0] if done else 0


def freeze_heap() -> None:
    """Collect once, then freeze what survives (the model, and what was built after start-up's
    `gc_paused`): it lives as long as the process, and frozen, no later collection walks it.

    The collection first frees what loading (or building) the model left behind, so nothing
    freezes as garbage.
    """
    gc.collect()
    gc.freeze()


def build_runtime(settings: Settings, engine: Engine, coordinator: Coordinator | None = None) -> Runtime:
    """Load the policy and taxonomy now; the classifier on first use (it may train the default model)."""
    nlp = settings.nlp
    duplicate_index.configure_memos(nlp.duplicate_cache, nlp.text_cache)

    @cache
    def classifier() -> Classifier:
        return load_classifier(nlp.model_dir, backend=nlp.backend, review_threshold=nlp.review_threshold)

    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        taxonomy=load_taxonomy(nlp.taxonomy_file),
        policy=load_policy_for(settings.sla),
        coordinator=coordinator or make_coordinator(settings),
        classifier=classifier,
    )


async def _every(
    name: str, interval_s: float, stop: anyio.Event, work: Callable[[], Awaitable[object]]
) -> None:
    """Run `work` every `interval_s` until `stop`; a database outage skips a round, never ends the loop."""
    while not stop.is_set():
        try:
            await work()
        except Exception as exc:
            if not database_down(exc):
                raise
            logger.warning("%s skipped: database unreachable (%s)", name, type(exc).__name__)
        with anyio.move_on_after(interval_s):
            await stop.wait()


async def serve(runtime: Runtime, transport: Transport, stop: anyio.Event) -> None:
    """Run a live transport: handle messages, deliver the outbox, sweep deadlines, until `stop`."""
    settings = runtime.settings
    if settings.bot_metrics_port:
        from prometheus_client import start_http_server

        from gridbot.models import telemetry  # noqa: F401 (creates the bot's metrics: they count from now)

        start_http_server(settings.bot_metrics_port, addr="127.0.0.1")
    spool = Spool(settings.spool_dir / f"{settings.instance_id}.jsonl")
    conversation = runtime.conversation(spool=spool)
    sender = runtime.sender(transport)
    await anyio.to_thread.run_sync(runtime.classifier)  # load (or build) the model before listening
    freeze_heap()
    await sender.recover_claims()
    recovered = await conversation.recover_pending()
    recovered += await anyio.to_thread.run_sync(conversation.drain_spool)
    if recovered:
        logger.info("finished %d messages left pending or spooled by the previous run", recovered)
    if conversation.attachments is not None:  # downloads a crash left behind
        conversation.attachments.store.sweep_incoming(INCOMING_MAX_AGE_S)

    async def sweep() -> None:
        await anyio.to_thread.run_sync(runtime.sweep, utcnow())

    async def purge() -> None:
        await anyio.to_thread.run_sync(runtime.purge_text, utcnow())
        await anyio.to_thread.run_sync(runtime.purge_attachments, utcnow())

    async def thanks() -> None:
        await anyio.to_thread.run_sync(runtime.post_thanks, utcnow())

    async def recover() -> None:
        # after an outage: the spool first (arrival order), then messages interrupted mid-route
        if await anyio.to_thread.run_sync(conversation.drain_spool):
            logger.info("spooled messages replayed; %d still waiting", len(spool))
        await conversation.recover_pending(grace_s=RECOVERY_GRACE_S)

    rollup_since = [utcnow() - timedelta(seconds=2 * settings.rollup_interval_s)]

    async def rollups() -> None:
        now = utcnow()
        if await anyio.to_thread.run_sync(runtime.refresh_rollups, rollup_since[0], now):
            rollup_since[0] = now

    # every transport hands messages to the conversation through this: what waits goes in batches
    bot = settings.bot
    dispatcher = MessageDispatcher(
        conversation.handle_batch, bot.batch_max, bot.batches_at_once, bot.batch_budget_ms / 1000
    )
    silence = timedelta(minutes=settings.wechaty.silence_alert_minutes)
    watchdog = Watchdog(transport.status, runtime.policy.calendar, silence, database_sink(runtime.sessions))
    if hasattr(transport, "on_status"):  # a QR code to scan is recorded at once (gridbot status, /readyz)
        transport.on_status = watchdog.check
    pre_login = watchdog.account
    calendar = runtime.policy.calendar
    if warning := coverage_warning(calendar, utcnow().astimezone(calendar.tz).date()):
        logger.warning("%s", warning)
    # before the task group, so a failed login is a plain TransportError for the caller
    await transport.start(dispatcher.handle, conversation.on_member_change)
    # logged in: the account this instance speaks as (rooms it serves are answered through it)
    conversation.account = sender.account = transport.status.bot_id
    if watchdog.account != pre_login:
        with runtime.sessions.begin() as session:
            bot_status.forget(session, pre_login)  # the placeholder row that showed the QR code

    async with anyio.create_task_group() as tg:
        tg.start_soon(sender.run, stop)
        tg.start_soon(_every, "deadline sweep", settings.sla.sweep_interval_s, stop, sweep)
        # not at once: the start-up just did both, and the first messages should not wait behind a rerun
        tg.start_soon(_later, RECOVER_INTERVAL_S, stop, _every, "recovery", RECOVER_INTERVAL_S, stop, recover)
        if settings.retention.message_text_days or settings.retention.attachment_days:
            tg.start_soon(_every, "retention purge", settings.retention.purge_interval_s, stop, purge)
        if settings.participation.enabled:
            tg.start_soon(_every, "thank-you list", THANKS_INTERVAL_S, stop, thanks)
        tg.start_soon(
            _later,
            settings.rollup_interval_s,
            stop,
            _every,
            "rollups",
            settings.rollup_interval_s,
            stop,
            rollups,
        )
        tg.start_soon(watchdog.run, stop)
        await stop.wait()
        try:
            await sender.drain_once()  # what the last messages caused still goes out
        except Exception as exc:
            if not database_down(exc):
                raise
        await transport.stop()
        with anyio.move_on_after(STOP_GRACE_S):  # what the transport handed over is finished
            await dispatcher.join()
        await dispatcher.close()
        tg.cancel_scope.cancel()


async def serve_until_signalled(runtime: Runtime, transport: Transport) -> None:
    """`serve` until SIGTERM or SIGINT, then stop cleanly: last outbox round, transport stop, STOPPED recorded."""
    failure: list[Exception] = []

    async with anyio.create_task_group() as tg:
        stop = anyio.Event()

        async def watch() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for signum in signals:
                    logger.info("%s received: stopping", signal.Signals(signum).name)
                    stop.set()
                    return

        async def run() -> None:
            try:
                await serve(runtime, transport, stop)
            except Exception as exc:  # re-raised below, not wrapped in an exception group
                failure.append(exc)
            finally:
                tg.cancel_scope.cancel()

        tg.start_soon(watch)
        tg.start_soon(run)
    if failure:
        raise failure[0]


async def _later(delay_s: float, stop: anyio.Event, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Start `fn(*args)` after `delay_s` (unless stopped first)."""
    with anyio.move_on_after(delay_s):
        await stop.wait()
    if not stop.is_set():
        await fn(*args)

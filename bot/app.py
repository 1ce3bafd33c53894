"""Process wiring: build the runtime from settings, and run a transport with its loops."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

import anyio
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.sender import OutboxSender
from bot.transport import Transport
from bot.watchdog import Watchdog, database_sink
from handlers.conversation import Conversation
from models import sweeper
from models.coordination import Coordinator, make_coordinator
from models.db import make_session_factory
from models.directory import SYSTEM_ACTOR
from models.entities import utcnow
from models.rollups import refresh_changed
from models.settings import Settings
from models.sla import SLAPolicy, load_policy_for
from models.tickets import close_unrated
from nlp.classifier import Classifier, load_classifier
from nlp.taxonomy import Taxonomy, load_taxonomy

logger = logging.getLogger(__name__)


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

    def conversation(self, clock: Callable[[], datetime] = utcnow) -> Conversation:
        """The conversation handler over this runtime."""
        return Conversation(
            self.sessions,
            self.classifier,
            self.taxonomy,
            self.policy,
            self.coordinator,
            self.settings.nlp,
            clock,
        )

    def sweep(self, now: datetime) -> sweeper.SweepResult:
        """One deadline sweep, then close tickets whose rating window passed."""
        result = sweeper.sweep(
            self.sessions, self.policy, now, self.coordinator, self.settings.sla.sweep_batch_size
        )
        with self.sessions.begin() as session:
            close_unrated(session, now, SYSTEM_ACTOR)
        return result

    def refresh_rollups(self, since: datetime, now: datetime) -> bool:
        """Bring the metric rollups up to date with what changed since `since` (one instance at a time)."""
        with self.coordinator.lock("rollups", ttl_s=600) as held:
            if not held.acquired:
                return False
            with self.sessions.begin() as session:
                refresh_changed(session, since, now)
        return True


def build_runtime(settings: Settings, engine: Engine, coordinator: Coordinator | None = None) -> Runtime:
    """Load the policy and taxonomy now; the classifier on first use (it may train the default model)."""
    nlp = settings.nlp

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


async def serve(runtime: Runtime, transport: Transport, stop: anyio.Event) -> None:
    """Run a live transport: handle messages, deliver the outbox, sweep deadlines, until `stop`."""
    if runtime.settings.bot_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(runtime.settings.bot_metrics_port, addr="127.0.0.1")
    conversation = runtime.conversation()
    sender = OutboxSender(runtime.sessions, transport, runtime.coordinator, runtime.settings.outbox, utcnow)
    await anyio.to_thread.run_sync(runtime.classifier)  # load (or build) the model before listening
    recovered = await conversation.recover_pending()
    if recovered:
        logger.info("finished %d messages left pending by the previous run", recovered)

    async def sweeps() -> None:
        while not stop.is_set():
            await anyio.to_thread.run_sync(runtime.sweep, utcnow())
            with anyio.move_on_after(runtime.settings.sla.sweep_interval_s):
                await stop.wait()

    # before the task group, so a failed login is a plain TransportError for the caller
    await transport.start(conversation.handle, conversation.on_member_change)

    async def rollups() -> None:
        since = utcnow() - timedelta(seconds=2 * runtime.settings.rollup_interval_s)
        while not stop.is_set():
            with anyio.move_on_after(runtime.settings.rollup_interval_s):
                await stop.wait()
            now = utcnow()
            if await anyio.to_thread.run_sync(runtime.refresh_rollups, since, now):
                since = now

    async with anyio.create_task_group() as tg:
        tg.start_soon(sender.run, stop)
        tg.start_soon(sweeps)
        tg.start_soon(rollups)
        silence = timedelta(minutes=runtime.settings.wechaty.silence_alert_minutes)
        watchdog = Watchdog(
            transport.status, runtime.policy.calendar, silence, database_sink(runtime.sessions)
        )
        tg.start_soon(watchdog.run, stop)
        await stop.wait()
        await sender.drain_once()  # what the last messages caused still goes out
        await transport.stop()
        tg.cancel_scope.cancel()

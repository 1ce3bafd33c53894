"""Jobs one instance at a time may run: deadline sweep, rollups, text purge, the monthly thank-you list.

The bot's background loops and the CLI commands (`gridbot rollup changed|refresh`, `gridbot db
purge-text`) both call these, so a cron job and a running bot never do the same work at once. Each
takes the coordinator lock (Redis when configured, in-process otherwise) and, inside its
transaction, a PostgreSQL advisory lock: the database-side guard that still holds when Redis is
lost or flushed. A job that finds its lock held returns None and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from gridbot.models import participation
from gridbot.models.attachments.store import FileStore
from gridbot.models.db import try_xact_lock
from gridbot.models.messaging import notices
from gridbot.models.messaging.coordination import Coordinator
from gridbot.models.messaging.retention import purge_attachments as purge_attachment_rows
from gridbot.models.messaging.retention import purge_message_text
from gridbot.models.metrics.rollups import RefreshStats, refresh_changed, refresh_rollups
from gridbot.models.org.directory import SYSTEM_ACTOR
from gridbot.models.settings import ParticipationSettings
from gridbot.models.tickets import sweeper
from gridbot.models.tickets.service import close_unrated
from gridbot.models.tickets.sla import SLAPolicy

logger = logging.getLogger(__name__)
T = TypeVar("T")

ROLLUPS = "rollups"
RETENTION = "retention"
PARTICIPATION = "participation"
JOB_LOCK_TTL_S = 600


def sweep_deadlines(
    sessions: sessionmaker[Session],
    policy: SLAPolicy,
    coordinator: Coordinator,
    now: datetime,
    batch_size: int = 500,
) -> sweeper.SweepResult:
    """One deadline sweep (its own lock, see models.tickets.sweeper), then close unrated tickets and
    send the due notice reminders (知晓率)."""
    result = sweeper.sweep(sessions, policy, now, coordinator, batch_size)
    if not result.skipped:
        with sessions.begin() as session:
            close_unrated(session, now, SYSTEM_ACTOR)
            notices.remind_due(session, now)
    return result


def _exclusively(
    sessions: sessionmaker[Session], coordinator: Coordinator, name: str, work: Callable[[Session], T]
) -> T | None:
    """`work` in one transaction under both locks of job `name`; None if another instance holds either."""
    with coordinator.lock(name, ttl_s=JOB_LOCK_TTL_S) as held:
        if not held.acquired:
            return None
        with sessions.begin() as session:
            if not try_xact_lock(session, f"gridbot:{name}"):
                return None
            return work(session)


def refresh_changed_rollups(
    sessions: sessionmaker[Session], coordinator: Coordinator, since: datetime, now: datetime
) -> list[RefreshStats] | None:
    """Bring the rollups up to date with what changed since `since`; None if another instance is at it."""
    return _exclusively(sessions, coordinator, ROLLUPS, lambda session: refresh_changed(session, since, now))


def backfill_rollups(
    sessions: sessionmaker[Session], coordinator: Coordinator, first: date, last: date
) -> RefreshStats | None:
    """Recompute the rollups of local days first..last; None if another instance holds the lock."""
    return _exclusively(sessions, coordinator, ROLLUPS, lambda session: refresh_rollups(session, first, last))


def purge_text(
    sessions: sessionmaker[Session], coordinator: Coordinator, now: datetime, days: int
) -> int | None:
    """Blank message text older than `days`; rows purged, or None if another instance is at it."""
    purged = _exclusively(
        sessions, coordinator, RETENTION, lambda session: purge_message_text(session, now, days)
    )
    if purged:
        logger.info("retention: text older than %d days purged from %d rows", days, purged)
    return purged


def post_monthly_thanks(
    sessions: sessionmaker[Session], coordinator: Coordinator, now: datetime, rules: ParticipationSettings
) -> int | None:
    """Queue last month's thank-you lists (once per group and month); None if another instance is at it."""
    if not rules.enabled:
        return 0
    queued = _exclusively(
        sessions, coordinator, PARTICIPATION, lambda session: participation.post_thanks(session, now, rules)
    )
    if queued:
        logger.info("participation: %d thank-you lists queued", queued)
    return queued


def purge_attachments(
    sessions: sessionmaker[Session], coordinator: Coordinator, store: FileStore, now: datetime, days: int
) -> tuple[int, int] | None:
    """Delete attachments older than `days` (rows, files), or None if another instance is at it."""
    purged = _exclusively(
        sessions, coordinator, RETENTION, lambda session: purge_attachment_rows(session, store, now, days)
    )
    if purged and purged[0]:
        logger.info("retention: %d attachments (%d files) older than %d days deleted", *purged, days)
    return purged

"""Prometheus metrics of the running system, defined once; the bot and the API update them.

Figures the database knows (outbox backlog and lag, SLA breaches, each bot account's connection
state from the watchdog's `bot_status`) are read at scrape time by the API's /metrics, whichever
process did the work. In-process figures of the bot (messages processed by outcome, classification
latency) are served by the bot itself on `GRIDBOT_BOT_METRICS_PORT` when that is set.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from gridbot.models import bot_metrics
from gridbot.models.entities import BotStatus, Outbox, TicketDeadline, UTCDateTime
from gridbot.models.entities.bot_status import BotState
from gridbot.models.enums import DeadlineKind, OutboxStatus

MESSAGES_PROCESSED = Counter(
    "gridbot_messages_processed_total", "Group messages processed by the bot", ["outcome"]
)
CLASSIFICATION_SECONDS = Histogram(
    "gridbot_classification_seconds",
    "Time to classify one resident message",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
bot_metrics.install(MESSAGES_PROCESSED, CLASSIFICATION_SECONDS)
OUTBOX_PENDING = Gauge("gridbot_outbox_pending", "Outbox rows not yet sent")
OUTBOX_LAG_SECONDS = Gauge("gridbot_outbox_lag_seconds", "Age of the oldest unsent outbox row")
SLA_BREACHES = Gauge("gridbot_sla_breaches_total", "SLA deadlines breached so far", ["kind"])
BOT_CONNECTED = Gauge(
    "gridbot_bot_connected", "1 while the bot account is logged in to WeChat, else 0", ["account"]
)


def refresh_from_database(session: Session, now: datetime) -> None:
    """Set the database-derived gauges: outbox, SLA breaches, bot connection state."""
    refresh_outbox(session, now)
    d = TicketDeadline
    # passed its due instant while running (the sweep no longer writes breached_at; older rows have it)
    ended = func.coalesce(d.met_at, d.stopped_at, d.paused_at, literal(now, UTCDateTime()))
    breaches = session.execute(
        select(d.kind, func.count()).where(or_(d.breached_at.is_not(None), d.due_at < ended)).group_by(d.kind)
    ).all()
    for kind in DeadlineKind:
        SLA_BREACHES.labels(kind.value).set(dict(breaches).get(kind, 0))
    for account, state in session.execute(select(BotStatus.account, BotStatus.state)):
        BOT_CONNECTED.labels(account).set(1 if state is BotState.ONLINE or state is BotState.SILENT else 0)


def refresh_outbox(session: Session, now: datetime) -> None:
    """Set the outbox gauges from the database (one indexed aggregate)."""
    count, oldest = session.execute(
        select(func.count(), func.min(Outbox.created_at)).where(
            Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
        )
    ).one()
    OUTBOX_PENDING.set(count or 0)
    OUTBOX_LAG_SECONDS.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)

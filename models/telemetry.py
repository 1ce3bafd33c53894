"""Prometheus metrics of the running system, defined once; the bot and the API update them.

The API process serves /metrics. Bot-side figures (messages processed, classification latency,
bot connection state) are updated in the bot process and need that process to expose them too
(`prometheus_client.start_http_server`); outbox lag is read from the database at scrape time, so
the API reports it whichever process sends.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.entities import Outbox
from models.enums import OutboxStatus

MESSAGES_PROCESSED = Counter(
    "gridbot_messages_processed_total", "Group messages processed by the bot", ["outcome"]
)
CLASSIFICATION_SECONDS = Histogram(
    "gridbot_classification_seconds",
    "Time to classify one resident message",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
OUTBOX_PENDING = Gauge("gridbot_outbox_pending", "Outbox rows not yet sent")
OUTBOX_LAG_SECONDS = Gauge("gridbot_outbox_lag_seconds", "Age of the oldest unsent outbox row")
SLA_BREACHES = Counter("gridbot_sla_breaches_total", "SLA deadlines breached", ["kind"])
BOT_CONNECTED = Gauge("gridbot_bot_connected", "1 while the bot is logged in to WeChat, else 0")


def refresh_outbox(session: Session, now: datetime) -> None:
    """Set the outbox gauges from the database (one indexed aggregate)."""
    count, oldest = session.execute(
        select(func.count(), func.min(Outbox.created_at)).where(
            Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
        )
    ).one()
    OUTBOX_PENDING.set(count or 0)
    OUTBOX_LAG_SECONDS.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)

"""The platform exchange: webhook events and their deliveries, and links to external work orders.

A ticket event that a partner platform cares about (created, updated, closed) gets a `webhook_events`
row in the same statement as the event itself (`record_event`, which the ticket service writes every
event with; one `WITH … INSERT … RETURNING` on PostgreSQL) or, for an event added to a session, in
its flush (the `after_insert` hook below), so the exchange sees every change no matter which path made
it (bot command, API, inbound work order, sweeper) and loses none on a crash: the change and its
webhook commit or roll back together.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Connection,
    ForeignKey,
    Index,
    Insert,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    event,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column

from gridbot.models.entities.base import Base, str_enum, utcnow
from gridbot.models.entities.ticket import TicketEvent


class WebhookEventType(StrEnum):
    """What a partner is told about a ticket."""

    CREATED = "ticket.created"
    UPDATED = "ticket.updated"
    CLOSED = "ticket.closed"


class WebhookEventStatus(StrEnum):
    """PENDING until its deliveries (one per matching subscriber) are queued."""

    PENDING = "pending"
    FANNED_OUT = "fanned_out"


class DeliveryStatus(StrEnum):
    """State of one webhook delivery to one subscriber."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"  # the dead-letter list: gave up (attempts exhausted or refused permanently)


# ticket_events.action → webhook event type; actions not listed (e.g. "similar") are not exchanged
EVENT_TYPES: dict[str, WebhookEventType] = {
    "create": WebhookEventType.CREATED,
    **dict.fromkeys(
        (
            "accept",
            "respond",
            "start",
            "resolve",
            "suspend",
            "resume",
            "transfer",
            "reopen",
            "reclassify",
            "report",
        ),
        WebhookEventType.UPDATED,
    ),
    **dict.fromkeys(("close", "reject", "merge"), WebhookEventType.CLOSED),
}


class WebhookEvent(Base):
    """A ticket event to be sent to the partners; written with the event, fanned out later."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    event_type: Mapped[WebhookEventType] = mapped_column(str_enum(WebhookEventType))
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    status: Mapped[WebhookEventStatus] = mapped_column(
        str_enum(WebhookEventStatus), default=WebhookEventStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one subscriber: the exact signed body, its idempotency key, attempts, outcome."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id"))
    subscriber: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    event_type: Mapped[WebhookEventType] = mapped_column(str_enum(WebhookEventType))
    body: Mapped[str] = mapped_column(Text)  # the JSON sent, byte for byte the same on every retry
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    event_at: Mapped[datetime]  # when the ticket changed (for timeliness)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class ExternalLink(Base):
    """A ticket that came from (or is known to) another platform under that platform's own id."""

    __tablename__ = "external_links"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]  # the platform's own deadline, when it sent one
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # masked extra fields, as received


_EVENT_COLUMNS = ("ticket_id", "actor_id", "at", "action", "from_status", "to_status", "note", "data")
_WEBHOOK_COLUMNS = ("ticket_event_id", "ticket_id", "event_type", "action", "at", "status", "created_at")


def _inserts() -> tuple[Insert, Insert, Insert]:
    """(an event, a webhook event, an event and its webhook event in one statement), built once:
    every ticket change runs them, and building a statement costs more than running it."""
    events, webhooks = cast(Table, TicketEvent.__table__), cast(Table, WebhookEvent.__table__)
    event_row = insert(events).values({c: bindparam(c, type_=events.c[c].type) for c in _EVENT_COLUMNS})
    webhook_row = insert(webhooks).values(
        {c: bindparam(c, type_=webhooks.c[c].type) for c in _WEBHOOK_COLUMNS}
    )
    written = event_row.returning(events.c.id, events.c.ticket_id, events.c.action, events.c.at).cte("ev")
    told = select(
        written.c.id,
        written.c.ticket_id,
        bindparam("event_type", type_=webhooks.c.event_type.type),
        written.c.action,
        written.c.at,
        bindparam("status", type_=webhooks.c.status.type),
        bindparam("created_at", type_=webhooks.c.created_at.type),
    )
    both = (
        insert(webhooks)
        .from_select(list(_WEBHOOK_COLUMNS), told)
        .add_cte(written, nest_here=True)
        .returning(webhooks.c.ticket_event_id)
    )
    return event_row.returning(events.c.id), webhook_row, both


_EVENT, _WEBHOOK, _EVENT_AND_WEBHOOK = _inserts()


def _webhook(kind: WebhookEventType) -> dict[str, Any]:
    return {"event_type": kind, "status": WebhookEventStatus.PENDING, "created_at": utcnow()}


def record_event(session: Session, values: dict[str, Any]) -> int:
    """Insert a ticket event (`values`: its columns but the id) and, when partners are told of its
    action, its webhook event; returns the event's id. One statement on PostgreSQL (the webhook row
    is inserted from the event's RETURNING); two on SQLite, which has no INSERT in a WITH."""
    conn = session.connection()
    kind = EVENT_TYPES.get(values["action"])
    if kind is None:
        return int(conn.execute(_EVENT, values).scalar_one())
    if conn.dialect.name == "postgresql":
        return int(conn.execute(_EVENT_AND_WEBHOOK, values | _webhook(kind)).scalar_one())
    event_id = int(conn.execute(_EVENT, values).scalar_one())
    row = {"ticket_event_id": event_id, "ticket_id": values["ticket_id"], "action": values["action"]}
    conn.execute(_WEBHOOK, row | {"at": values["at"]} | _webhook(kind))
    return event_id


@event.listens_for(TicketEvent, "after_insert")
def _queue_webhook(_mapper: Mapper[Any], connection: Connection, target: TicketEvent) -> None:
    """Queue the webhook event of an event added to a session in its own flush (same transaction)."""
    kind = EVENT_TYPES.get(target.action)
    if kind is None:
        return
    row = {"ticket_event_id": target.id, "ticket_id": target.ticket_id, "action": target.action}
    connection.execute(_WEBHOOK, row | {"at": target.at} | _webhook(kind))

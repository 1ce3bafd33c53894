"""Outbound webhooks: fan ticket events out to subscribers, claim due deliveries, record outcomes.

Delivery is at-least-once over HTTP (a partner that answered 2xx but whose answer was lost gets the
same delivery again); every attempt of one delivery carries the same body and the same
`Idempotency-Key`, so a partner that remembers keys applies each event exactly once. The signature
is HMAC-SHA256 over `<timestamp>.<body>` (docs/exchange.md says how to verify it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gridbot.models.db import is_postgres
from gridbot.models.entities import Grid, Region, Ticket, TicketEvent
from gridbot.models.entities.exchange import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventStatus,
)
from gridbot.models.exchange.config import ExchangeConfig
from gridbot.models.exchange.represent import Mask, RegionNames, iso, ticket_facts

SCHEMA = "gridbot.exchange.webhook/v1"
MAX_BACKOFF = timedelta(hours=6)
SIGNATURE_HEADER = "X-Gridbot-Signature"
TIMESTAMP_HEADER = "X-Gridbot-Timestamp"
EVENT_HEADER = "X-Gridbot-Event"
KEY_HEADER = "Idempotency-Key"


def sign(secret: bytes, timestamp: int, body: str) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>")."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body.encode(), hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: bytes, timestamp: int, body: str, signature: str, now_s: float, tolerance_s: float = 300
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent (no replays)."""
    if abs(now_s - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def fan_out(session: Session, config: ExchangeConfig, now: datetime, mask: Mask, limit: int = 500) -> int:
    """Turn pending webhook events into one delivery per matching subscriber; returns deliveries queued.

    The body is built here, once, and stored so every retry sends the same bytes: the change itself
    (action, from → to status, note) and the ticket as it stands at fan-out (normally within seconds of
    the change; a partner orders events by `event_id` and states by `ticket.version`).
    """
    stmt = (
        select(WebhookEvent)
        .where(WebhookEvent.status == WebhookEventStatus.PENDING)
        .order_by(WebhookEvent.id)
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    events = list(session.scalars(stmt))
    regions = RegionNames.of(session)
    queued = 0
    for ev in events:
        ev.status = WebhookEventStatus.FANNED_OUT
        if not config.subscribers:
            continue
        ticket = session.get(Ticket, ev.ticket_id)
        assert ticket is not None
        grid = session.get(Grid, ticket.grid_id)
        assert grid is not None
        codes = regions.codes(grid.region_path)
        targets = [s for s in config.subscribers if s.region in codes and ev.event_type in s.events]
        if not targets:
            continue
        source = session.get(TicketEvent, ev.ticket_event_id)
        facts = ticket_facts(session, ticket, grid, regions, config, mask)
        for sub in targets:
            key = str(uuid.uuid4())
            body = {
                "schema": SCHEMA,
                "id": key,
                "event": ev.event_type.value,
                "event_id": ev.ticket_event_id,
                "action": ev.action,
                "occurred_at": iso(ev.at),
                "change": {
                    "from_status": source.from_status.value if source and source.from_status else None,
                    "to_status": source.to_status.value if source and source.to_status else None,
                    "note": mask(source.note) if source is not None and source.note else None,
                },
                "ticket": facts,
            }
            session.add(
                WebhookDelivery(
                    event_id=ev.id,
                    subscriber=sub.name,
                    idempotency_key=key,
                    event_type=ev.event_type,
                    body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                    status=DeliveryStatus.PENDING,
                    next_attempt_at=now,
                    event_at=ev.at,
                    created_at=now,
                )
            )
            queued += 1
    session.flush()
    return queued


@dataclass(frozen=True)
class Due:
    """A claimed delivery, detached from the session (sent outside the transaction)."""

    id: int
    subscriber: str
    idempotency_key: str
    event_type: str
    body: str
    attempt: int


def claim_due(session: Session, now: datetime, limit: int, worker_id: str) -> list[Due]:
    """Claim due PENDING deliveries as SENDING by `worker_id`, oldest first."""
    stmt = (
        select(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.scalars(stmt))
    for row in rows:
        row.status = DeliveryStatus.SENDING
        row.claimed_by = worker_id
        row.attempts += 1
        row.next_attempt_at = now  # a SENDING row's claim time (for release_stale)
    session.flush()
    return [Due(r.id, r.subscriber, r.idempotency_key, r.event_type.value, r.body, r.attempts) for r in rows]


def mark_delivered(session: Session, delivery_id: int, now: datetime, status_code: int) -> bool:
    """Record a 2xx answer; False if the row was not ours to settle any more."""
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.SENDING)
        .values(
            status=DeliveryStatus.DELIVERED,
            delivered_at=now,
            last_status_code=status_code,
            claimed_by=None,
        )
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def backoff(attempts: int, base_s: float, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with equal jitter: base·2^(n-1), at least half of it, capped at MAX_BACKOFF."""
    delay = min(timedelta(seconds=base_s * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return delay / 2 + delay / 2 * (rng or random).random()


def mark_failed(
    session: Session,
    delivery_id: int,
    now: datetime,
    error: str,
    *,
    status_code: int | None,
    permanent: bool,
    backoff_base_s: float,
    max_attempts: int,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> DeliveryStatus | None:
    """Retry later with backoff, or dead-letter (permanent refusal, or attempts exhausted)."""
    row = session.get(WebhookDelivery, delivery_id)
    if row is None or row.status is not DeliveryStatus.SENDING:
        return None
    row.last_error = error[:200]
    row.last_status_code = status_code
    row.claimed_by = None
    if permanent or row.attempts >= max_attempts:
        row.status = DeliveryStatus.DEAD
    else:
        delay = backoff(row.attempts, backoff_base_s, rng)
        if retry_after_s is not None:
            delay = max(delay, timedelta(seconds=min(retry_after_s, MAX_BACKOFF.total_seconds())))
        row.status = DeliveryStatus.PENDING
        row.next_attempt_at = now + delay
    session.flush()
    return row.status


def release_stale(session: Session, now: datetime, older_than_s: float) -> int:
    """SENDING rows claimed too long ago go back to PENDING (their deliverer died mid-attempt)."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.status == DeliveryStatus.SENDING,
            WebhookDelivery.next_attempt_at <= now - timedelta(seconds=older_than_s),
        )
        .values(status=DeliveryStatus.PENDING, claimed_by=None, next_attempt_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def dead_letters(session: Session, subscriber: str | None = None, limit: int = 100) -> list[WebhookDelivery]:
    """The dead-letter list, newest first."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.DEAD)
    if subscriber is not None:
        stmt = stmt.where(WebhookDelivery.subscriber == subscriber)
    return list(session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)))


def retry_dead(session: Session, delivery_id: int, now: datetime) -> bool:
    """Put a dead letter back in the queue (same body, same idempotency key, attempts reset)."""
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.DEAD)
        .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, last_error=None)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def subscribers_in_scope(session: Session, config: ExchangeConfig, scope_path: str) -> set[str]:
    """Names of the subscribers whose region lies in the scope subtree (unknown regions: none)."""
    codes = {s.region for s in config.subscribers}
    paths = dict(session.execute(select(Region.code, Region.path).where(Region.code.in_(codes))).all())
    return {
        s.name
        for s in config.subscribers
        if paths.get(s.region, "").startswith(scope_path) and s.region in paths
    }


def backlog(session: Session) -> dict[str, int]:
    """Counts by status (events waiting for fan-out under "unrouted")."""
    counts = {s.value: 0 for s in DeliveryStatus}
    for status, n in session.execute(
        select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
    ):
        counts[status.value] = int(n)
    counts["unrouted"] = int(
        session.scalar(select(func.count()).where(WebhookEvent.status == WebhookEventStatus.PENDING)) or 0
    )
    return counts

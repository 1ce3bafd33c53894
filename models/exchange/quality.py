"""The exchange's data-quality report: completeness, timeliness and failures over a period.

- completeness: of the tickets created in the period, the share carrying what a 12345 platform
  needs — a specific service code (not the catch-all), a description of at least MIN_DESCRIPTION
  characters, a resolution deadline — field by field and all together;
- timeliness: webhook lag from the ticket change to the partner's 2xx (median, 95th percentile,
  share within TIMELY_S), and inbound work orders accepted in the grid before their first-response
  deadline (and before the platform's own deadline when it sent one);
- failures: deliveries by status, the dead-letter count, the share that needed a retry, the most
  frequent last errors.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import Grid, Ticket, TicketDeadline
from gridbot.models.entities.exchange import DeliveryStatus, ExternalLink, WebhookDelivery, WebhookEvent
from gridbot.models.enums import DeadlineKind, TicketStatus
from gridbot.models.exchange.config import City

MIN_DESCRIPTION = 5
TIMELY_S = 60.0


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 3)


@dataclass
class QualityReport:
    """The report; `as_dict()` is what the API and the CLI print."""

    period: dict[str, str]
    tickets: int = 0
    completeness: dict[str, float | None] = field(default_factory=dict)
    timeliness: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return asdict(self)


def report(
    session: Session, scope_path: str, city: City | None, start: datetime, end: datetime
) -> QualityReport:
    """The report for tickets and deliveries of the scope subtree within [start, end)."""
    out = QualityReport(period={"from": start.isoformat(), "to": end.isoformat()})
    rows = session.execute(
        select(Ticket.id, Ticket.category, Ticket.text_masked)
        .join(Grid, Grid.id == Ticket.grid_id)
        .where(
            Grid.region_path.startswith(scope_path, autoescape=True),
            Ticket.created_at >= start,
            Ticket.created_at < end,
            Ticket.status != TicketStatus.MERGED,
        )
    ).all()
    ids = [r[0] for r in rows]
    with_deadline = (
        set(
            session.scalars(
                select(TicketDeadline.ticket_id).where(
                    TicketDeadline.ticket_id.in_(ids), TicketDeadline.kind == DeadlineKind.RESOLUTION
                )
            )
        )
        if ids
        else set()
    )
    specific = code_ok = desc_ok = due_ok = 0
    for ticket_id, category, text in rows:
        service = city.service_for(category) if city else None
        mapped = service is not None and (city is None or service.service_code != city.default_service_code)
        has_code = service is not None
        has_desc = len((text or "").strip()) >= MIN_DESCRIPTION
        has_due = ticket_id in with_deadline
        code_ok += has_code
        specific += mapped
        desc_ok += has_desc
        due_ok += has_due
    n = len(rows)
    complete = sum(
        1
        for ticket_id, category, text in rows
        if city is not None
        and (s := city.service_for(category)) is not None
        and s.service_code != city.default_service_code
        and len((text or "").strip()) >= MIN_DESCRIPTION
        and ticket_id in with_deadline
    )
    out.tickets = n
    out.completeness = {
        "service_code": _rate(code_ok, n),
        "specific_service_code": _rate(specific, n),
        "description": _rate(desc_ok, n),
        "resolution_deadline": _rate(due_ok, n),
        "complete": _rate(complete, n),
    }
    deliveries = (
        session.execute(
            select(WebhookDelivery)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .join(Ticket, Ticket.id == WebhookEvent.ticket_id)
            .join(Grid, Grid.id == Ticket.grid_id)
            .where(
                Grid.region_path.startswith(scope_path, autoescape=True),
                WebhookDelivery.event_at >= start,
                WebhookDelivery.event_at < end,
            )
        )
        .scalars()
        .all()
    )
    lags = [
        (d.delivered_at - d.event_at).total_seconds()
        for d in deliveries
        if d.status is DeliveryStatus.DELIVERED and d.delivered_at is not None
    ]
    by_status = Counter(d.status.value for d in deliveries)
    retried = sum(1 for d in deliveries if d.attempts > 1)
    errors = Counter(
        d.last_error for d in deliveries if d.last_error and d.status is not DeliveryStatus.DELIVERED
    )
    out.timeliness = {
        "webhooks_delivered": len(lags),
        "webhook_lag_p50_s": _quantile(lags, 0.5),
        "webhook_lag_p95_s": _quantile(lags, 0.95),
        "webhook_within_60s": _rate(sum(1 for x in lags if x <= TIMELY_S), len(lags)),
        **_inbound_timeliness(session, scope_path, start, end),
    }
    out.failures = {
        "deliveries": len(deliveries),
        "by_status": {s.value: by_status.get(s.value, 0) for s in DeliveryStatus},
        "dead_letters": by_status.get(DeliveryStatus.DEAD.value, 0),
        "needed_retry": _rate(retried, len(deliveries)),
        "top_errors": [{"error": e, "count": c} for e, c in errors.most_common(5)],
    }
    return out


def _inbound_timeliness(session: Session, scope_path: str, start: datetime, end: datetime) -> dict[str, Any]:
    rows = session.execute(
        select(ExternalLink, Ticket, TicketDeadline)
        .join(Ticket, Ticket.id == ExternalLink.ticket_id)
        .join(Grid, Grid.id == Ticket.grid_id)
        .outerjoin(
            TicketDeadline,
            (TicketDeadline.ticket_id == Ticket.id)
            & (TicketDeadline.kind == DeadlineKind.FIRST_RESPONSE)
            & (TicketDeadline.cycle == 0),
        )
        .where(
            Grid.region_path.startswith(scope_path, autoescape=True),
            ExternalLink.received_at >= start,
            ExternalLink.received_at < end,
        )
    ).all()
    on_time = platform_on_time = with_platform_due = 0
    for link, ticket, deadline in rows:
        answered = ticket.first_response_at
        if answered is not None and deadline is not None and answered <= deadline.due_at:
            on_time += 1
        if link.due_at is not None:
            with_platform_due += 1
            done = ticket.resolved_at or ticket.closed_at
            platform_on_time += done is not None and done <= link.due_at
    return {
        "work_orders": len(rows),
        "work_orders_accepted_on_time": _rate(on_time, len(rows)),
        "work_orders_resolved_by_platform_due": _rate(platform_on_time, with_platform_due),
    }

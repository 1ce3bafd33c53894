"""A grid's day at a glance: tickets by state, deadlines met and missed, reminders fired (the demo's summary)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridbot.models.entities import ReminderLog, Ticket, TicketDeadline
from gridbot.models.enums import DeadlineKind, TicketStatus


@dataclass(frozen=True)
class DeadlineOutcome:
    """Deadlines of one kind: met in time, missed (met late or overdue now), still running."""

    hit: int
    missed: int
    running: int


def status_counts(session: Session, grid_id: int) -> Counter[TicketStatus]:
    """How many of the grid's tickets are in each state."""
    return Counter(session.scalars(select(Ticket.status).where(Ticket.grid_id == grid_id)))


def deadline_outcomes(session: Session, grid_id: int, kind: DeadlineKind, now: datetime) -> DeadlineOutcome:
    """Met, missed and running deadlines of one kind over the grid's tickets, as of `now`."""
    rows = session.scalars(
        select(TicketDeadline)
        .join(Ticket, Ticket.id == TicketDeadline.ticket_id)
        .where(Ticket.grid_id == grid_id, TicketDeadline.kind == kind)
    ).all()
    hit = sum(1 for d in rows if d.met_at is not None and d.met_at <= d.due_at)
    missed = sum(1 for d in rows if (d.met_at or now) > d.due_at)
    return DeadlineOutcome(hit, missed, len(rows) - hit - missed)


def reminders_fired(session: Session, grid_id: int | None = None) -> int:
    """Reminder and escalation levels fired (all grids, or one)."""
    query = select(func.count()).select_from(ReminderLog)
    if grid_id is not None:
        query = query.join(Ticket, Ticket.id == ReminderLog.ticket_id).where(Ticket.grid_id == grid_id)
    return session.scalar(query) or 0

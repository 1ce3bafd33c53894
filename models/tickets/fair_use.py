"""What fair use of ticket creation counts: recent tickets of a resident and of a grid, and the
resident's open review item (the 待确认 ticket further reports are added to). The rule that applies
the limits is handlers/fair_use.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from gridbot.models.entities import Ticket, TicketEvent
from gridbot.models.enums import OPEN_STATUSES

OVERFLOW = "overflow"  # the event recording a report added to a review item


# built once, run for every report: both counts in one pass over the (grid_id, created_at) index
_RECENT = select(func.count().filter(Ticket.reporter_id == bindparam("person_id")), func.count()).where(
    Ticket.grid_id == bindparam("grid_id"), Ticket.created_at >= bindparam("since")
)


def recent_tickets(session: Session, grid_id: int, person_id: int, since: datetime) -> tuple[int, int]:
    """(tickets the resident opened, tickets opened in the grid) since `since` (the grid/created index)."""
    row = session.execute(_RECENT, {"grid_id": grid_id, "person_id": person_id, "since": since}).one()
    return int(row[0] or 0), int(row[1] or 0)


def open_review_item(session: Session, grid_id: int, person_id: int, since: datetime) -> Ticket | None:
    """The resident's open review item of the window, if one was opened since `since`."""
    return session.scalars(
        select(Ticket)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(
            Ticket.grid_id == grid_id,
            Ticket.reporter_id == person_id,
            Ticket.created_at >= since,
            Ticket.status.in_(OPEN_STATUSES),
            TicketEvent.action == OVERFLOW,
        )
        .order_by(Ticket.created_at.desc())
        .limit(1)
    ).first()

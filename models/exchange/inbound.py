"""Inbound work orders: a case the municipal platform pushes into a grid becomes a ticket, once.

The ticket is opened through the one lifecycle (`models.tickets.service.open_ticket`), linked to the
platform's own id (UNIQUE per source: a re-sent work order returns the first ticket), and announced
to the grid's gridworkers in the group through the outbox, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import Grid, Ticket
from gridbot.models.entities.exchange import ExternalLink
from gridbot.models.enums import OutboxKind, Priority, TicketKind
from gridbot.models.errors import TicketError
from gridbot.models.messaging.outbox import enqueue
from gridbot.models.org.directory import grid_workers
from gridbot.models.tickets import service
from gridbot.models.tickets.announce import grid_room
from gridbot.models.tickets.sla import SLAPolicy


class UnknownGrid(TicketError):
    """The work order names a grid gridbot does not know."""


@dataclass(frozen=True)
class WorkOrder:
    """A work order as the platform sent it, its texts already masked by the caller."""

    source: str
    external_id: str
    grid_code: str
    kind: TicketKind
    category: str
    category_label: str
    priority: Priority
    text: str
    text_masked: str
    due_at: datetime | None = None
    extra: dict[str, Any] | None = None


def find_link(session: Session, source: str, external_id: str) -> ExternalLink | None:
    """The link of a work order already received."""
    return session.scalar(
        select(ExternalLink).where(ExternalLink.source == source, ExternalLink.external_id == external_id)
    )


def find_grid(session: Session, code: str) -> Grid | None:
    """The grid with this code."""
    return session.scalar(select(Grid).where(Grid.code == code))


def grid_by_code(session: Session, code: str) -> Grid:
    """The grid with this code, or UnknownGrid."""
    grid = find_grid(session, code)
    if grid is None:
        raise UnknownGrid(f"没有编号为 {code} 的网格")
    return grid


def accept_work_order(
    session: Session, order: WorkOrder, now: datetime, policy: SLAPolicy
) -> tuple[Ticket, bool]:
    """Open the ticket for a work order; (ticket, True) the first time, (the same ticket, False) after."""
    link = find_link(session, order.source, order.external_id)
    if link is not None:
        ticket = session.get(Ticket, link.ticket_id)
        assert ticket is not None
        return ticket, False
    grid = grid_by_code(session, order.grid_code)
    ticket = service.open_ticket(
        session,
        grid_id=grid.id,
        kind=order.kind,
        category=order.category,
        category_label=order.category_label,
        priority=order.priority,
        text=order.text,
        text_masked=order.text_masked,
        reporter_id=None,
        now=now,
        policy=policy,
    )
    session.add(
        ExternalLink(
            ticket_id=ticket.id,
            source=order.source,
            external_id=order.external_id,
            received_at=now,
            due_at=order.due_at,
            data=order.extra or {},
        )
    )
    session.flush()
    _tell_the_grid(session, ticket, order, now)
    return ticket, True


def _tell_the_grid(session: Session, ticket: Ticket, order: WorkOrder, now: datetime) -> None:
    room = grid_room(session, ticket.grid_id)
    if room is None:
        return
    workers = grid_workers(session, ticket.grid_id)
    urgent = "【紧急】" if ticket.priority is Priority.URGENT else ""
    text = (
        f"{urgent}【{order.source}转办】工单 {ticket.number}【{ticket.category_label}】"
        f"{ticket.text_masked[:80]}。请网格员发送「接单 {ticket.number}」受理"
    )
    enqueue(
        session,
        dedupe_key=f"exchange:{order.source}:{order.external_id}",
        kind=OutboxKind.NOTICE,
        text=text,
        now=now,
        room_id=room,
        mention_ids=[p.platform_id for p in workers if p.platform_id],
        ticket_id=ticket.id,
    )

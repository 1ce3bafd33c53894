"""The conversation's view of the bot's wording: rendering tickets into the sentences of models/wording.

The sentences themselves live in `models/wording/residents.py` and `models/wording/staff.py`
(one place a city reviews); this module only picks the ticket's fields for them.
"""

from __future__ import annotations

from datetime import datetime

from gridbot.models.entities import Ticket
from gridbot.models.enums import DeadlineKind, Priority
from gridbot.models.wording import residents, staff
from gridbot.models.wording.residents import APOLOGY, UNBOUND
from gridbot.models.wording.staff import NO_PERMISSION

__all__ = ["APOLOGY", "NO_PERMISSION", "UNBOUND"]


def promise(ticket: Ticket) -> str:
    """「预计1小时内响应」 from the ticket's current first-response deadline."""
    for d in ticket.deadlines:
        if d.kind is DeadlineKind.FIRST_RESPONSE and d.cycle == ticket.cycle and d.met_at is None:
            return residents.response_promise(d.due_at, d.started_at)
    return residents.response_promise(None, None)


def filed(ticket: Ticket, worker: str | None) -> str:
    """The reply to a resident whose report became a ticket."""
    return residents.filed(ticket.number, ticket.category_label, ticket.kind.value, worker, promise(ticket))


def merged_into(ticket: Ticket) -> str:
    """The reply to a resident whose report joined an open ticket."""
    return residents.merged_into(ticket.number, ticket.category_label)


def ticket_line(ticket: Ticket, now: datetime) -> str:
    """One line of a ticket list."""
    return staff.ticket_line(
        ticket.number,
        ticket.priority is Priority.URGENT,
        ticket.needs_review,
        ticket.category_label,
        ticket.status,
        ticket.created_at,
        ticket.text_masked,
        now,
    )


def ticket_detail(ticket: Ticket, now: datetime) -> str:
    """The answer to 查 #42."""
    lines = [ticket_line(ticket, now)]
    for d in ticket.deadlines:
        if d.cycle == ticket.cycle and d.met_at is None and d.paused_at is None and d.stopped_at is None:
            lines.append(staff.deadline_state(d.kind, d.due_at - now))
    if ticket.resolution_note:
        lines.append(staff.resolution_line(ticket.resolution_note))
    return "\n".join(lines)

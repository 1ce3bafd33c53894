"""Handoffs: replies a gridworker posts for the bot (platform-neutral bookkeeping).

A room whose `can_post` is False gets no message from the bot: each reply the outbox owes it becomes
a handoff for the responsible gridworker. When the text shows up in the room (the gridworker posted
it), `close_matching` marks it done; a ticket's first response is that moment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import ChatGroup, Handoff, Ticket
from gridbot.models.enums import OutboxKind
from gridbot.models.tickets.service import record_first_response

_SPACE = re.compile(r"\s+")


def can_post(session: Session, room_id: str) -> bool:
    """Whether the bot may post in `room_id` itself (unknown rooms: yes)."""
    allowed = session.scalar(select(ChatGroup.can_post).where(ChatGroup.room_id == room_id))
    return allowed is not False


def is_staff_room(session: Session, room_id: str) -> bool:
    """Whether `room_id` is a staff conversation (not a residents' group)."""
    return bool(session.scalar(select(ChatGroup.staff_room).where(ChatGroup.room_id == room_id)))


def create(
    session: Session,
    *,
    outbox_ids: Sequence[int],
    room_id: str,
    text: str,
    kind: str,
    ticket_id: int | None,
    assignee_platform_id: str | None,
    now: datetime,
) -> tuple[Handoff, bool]:
    """The handoff for these outbox rows (keyed by the first); (row, created just now)."""
    existing = session.scalar(select(Handoff).where(Handoff.outbox_id == outbox_ids[0]))
    if existing is not None:
        return existing, False
    row = Handoff(
        outbox_id=outbox_ids[0],
        room_id=room_id,
        text=text,
        kind=kind,
        ticket_id=ticket_id,
        assignee_platform_id=assignee_platform_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, True


def open_for_room(session: Session, room_id: str) -> list[Handoff]:
    """The room's handoffs not yet seen posted, oldest first."""
    stmt = select(Handoff).where(Handoff.room_id == room_id, Handoff.done_at.is_(None))
    return list(session.scalars(stmt.order_by(Handoff.id)))


def open_for(session: Session, assignee_platform_id: str) -> list[Handoff]:
    """A gridworker's handoffs not yet posted, oldest first."""
    stmt = select(Handoff).where(
        Handoff.assignee_platform_id == assignee_platform_id, Handoff.done_at.is_(None)
    )
    return list(session.scalars(stmt.order_by(Handoff.id)))


def _norm(text: str) -> str:
    return _SPACE.sub("", text)


def close_matching(session: Session, room_id: str, text: str, message_id: str, at: datetime) -> list[Handoff]:
    """Mark done the open handoffs of `room_id` whose text `text` carries; a notice's ticket gets its
    first response at `at` (the moment the resident could read it)."""
    posted = _norm(text)
    if not posted:
        return []
    closed = []
    for row in open_for_room(session, room_id):
        if _norm(row.text) and _norm(row.text) in posted:
            row.done_at = at
            row.done_message_id = message_id
            closed.append(row)
            if row.ticket_id is not None and row.kind == OutboxKind.NOTICE.value:
                ticket = session.get(Ticket, row.ticket_id)
                if ticket is not None and ticket.accepted_at is not None:
                    record_first_response(session, ticket, at)
    session.flush()
    return closed

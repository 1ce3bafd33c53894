"""Group announcements of ticket changes, queued in the outbox with the change itself.

Whether a change came from a bot command or the API, the group hears about it the same way, in
the room where the ticket was reported (a grid may have several groups).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import ChatGroup, Message, Person, Ticket, TicketEvent
from gridbot.models.enums import OutboxKind
from gridbot.models.messaging.outbox import enqueue
from gridbot.models.wording import residents

RATING_PROMPT = residents.RATING_PROMPT


def grid_room(session: Session, grid_id: int) -> str | None:
    """The room id of the grid's first bound residents' group (None when the grid has no group)."""
    return session.scalar(
        select(ChatGroup.room_id)
        .where(ChatGroup.grid_id == grid_id, ChatGroup.staff_room.is_(False))
        .order_by(ChatGroup.bound_at.asc().nulls_last(), ChatGroup.id)
        .limit(1)
    )


def ticket_room(session: Session, ticket: Ticket) -> str | None:
    """The room the ticket was reported in while it is still bound to the grid, else the grid's first."""
    if ticket.source_message_id is not None:
        room = session.scalar(
            select(ChatGroup.room_id)
            .join(Message, Message.group_id == ChatGroup.id)
            .where(Message.id == ticket.source_message_id, ChatGroup.grid_id == ticket.grid_id)
        )
        if room is not None:
            return room
    return grid_room(session, ticket.grid_id)


def ticket_rooms(session: Session, tickets: list[Ticket]) -> dict[int, str | None]:
    """`ticket_room` for many tickets in two queries or so (the sweeper's batches)."""
    by_message = {t.source_message_id: t for t in tickets if t.source_message_id is not None}
    found: dict[int, str | None] = {}
    if by_message:
        rows = session.execute(
            select(Message.id, ChatGroup.room_id, ChatGroup.grid_id)
            .join(ChatGroup, ChatGroup.id == Message.group_id)
            .where(Message.id.in_(by_message))
        ).all()
        for message_id, room, grid_id in rows:
            t = by_message[message_id]
            if grid_id == t.grid_id:
                found[t.id] = room
    first: dict[int, str | None] = {}
    for t in tickets:
        if t.id not in found:
            if t.grid_id not in first:
                first[t.grid_id] = grid_room(session, t.grid_id)
            found[t.id] = first[t.grid_id]
    return found


def room_can_post(session: Session, grid_id: int) -> bool:
    """Whether the bot posts in the grid's residents' group itself (False: its replies are handed off)."""
    allowed = session.scalar(
        select(ChatGroup.can_post)
        .where(ChatGroup.grid_id == grid_id, ChatGroup.staff_room.is_(False))
        .order_by(ChatGroup.id)
        .limit(1)
    )
    return allowed is not False


def _reporter_ids(session: Session, ticket: Ticket) -> list[str]:
    ids = [r.person_id for r in ticket.reporters] or ([ticket.reporter_id] if ticket.reporter_id else [])
    if not ids:
        return []
    rows = session.scalars(select(Person.platform_id).where(Person.id.in_(ids))).all()
    return [p for p in rows if p]


def announce(session: Session, ticket: Ticket, event: TicketEvent, now: datetime) -> None:
    """Queue the group announcement of one ticket event, @-mentioning the reporters."""
    room = ticket_room(session, ticket)
    if room is None:
        return
    actor = session.get(Person, event.actor_id) if event.actor_id else None
    assignee = session.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    text = residents.announcement(
        event.action,
        number=ticket.number,
        category=ticket.category_label or ticket.category,
        kind=ticket.kind.value,
        actor=actor.name if actor else "",
        assignee=assignee.name if assignee else None,
        note=event.note,
        into=event.data.get("into"),
    )
    if text is None:
        return
    mentions = _reporter_ids(session, ticket)
    if event.action == "transfer" and assignee is not None and assignee.platform_id:
        mentions.append(assignee.platform_id)  # the new assignee hears of the hand-over by name
    enqueue(
        session,
        dedupe_key=f"event:{event.id}",
        kind=OutboxKind.NOTICE,
        text=text,
        now=now,
        room_id=room,
        mention_ids=mentions,
        ticket_id=ticket.id,
    )

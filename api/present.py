"""Entities to response bodies; every resident-written text passes through `api.privacy` here."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gridbot.api import privacy
from gridbot.api.schemas import (
    GridDetail,
    GridOut,
    GroupOut,
    MessageOut,
    PersonRoleOut,
    RatingOut,
    RegionDetail,
    RegionOut,
    TicketDetail,
    TicketEventOut,
    TicketOut,
    WorkerOut,
)
from gridbot.models import listings as queries
from gridbot.models.entities import Grid, Message, Person, Rating, Region, RoleAssignment, Ticket
from gridbot.models.org.tokens import TokenPrincipal
from gridbot.models.tickets.lifecycle import allowed_actions
from gridbot.models.tickets.service import is_reporter


def region(r: Region) -> RegionOut:
    """A region."""
    return RegionOut(id=r.id, code=r.code, name=r.name, level=r.level, parent_id=r.parent_id, path=r.path)


def region_detail(r: Region, children: list[Region]) -> RegionDetail:
    """A region with its children."""
    return RegionDetail(**region(r).model_dump(), children=[region(c) for c in children])


def grid(g: Grid) -> GridOut:
    """A grid."""
    return GridOut(
        id=g.id,
        code=g.code,
        name=g.name,
        community_id=g.community_id,
        grid_type=g.grid_type,
        households=g.households,
    )


def grid_detail(d: queries.GridDetail) -> GridDetail:
    """A grid with its groups and workers."""
    return GridDetail(
        **grid(d.grid).model_dump(),
        groups=[
            GroupOut(
                room_id=i.group.room_id,
                topic=i.group.topic,
                bound_at=i.group.bound_at,
                member_count=i.member_count,
                member_count_at=i.counted_at,
                bot_state=i.bot.state.value if i.bot else None,
                bot_state_at=i.bot.updated_at if i.bot else None,
            )
            for i in d.groups
        ],
        workers=[WorkerOut(person_id=p.id, name=p.name, role=role) for p, role in d.workers],
    )


def person_role(ra: RoleAssignment, p: Person) -> PersonRoleOut:
    """One role of a person, phone masked."""
    return PersonRoleOut(
        person_id=p.id,
        name=p.name,
        phone=privacy.phone(p.phone),
        role=ra.role,
        grid_id=ra.grid_id,
        region_id=ra.region_id,
    )


def ticket(t: Ticket, g: Grid) -> TicketOut:
    """A ticket as listed, text masked."""
    return TicketOut(
        number=t.id,
        kind=t.kind,
        category=t.category,
        category_label=t.category_label,
        priority=t.priority,
        status=t.status,
        grid_id=t.grid_id,
        grid_name=g.name,
        assignee_id=t.assignee_id,
        text=privacy.text(t.text) or "",
        needs_review=t.needs_review,
        cycle=t.cycle,
        escalation_level=t.escalation_level,
        version=t.version,
        created_at=t.created_at,
        updated_at=t.updated_at,
        resolved_at=t.resolved_at,
        closed_at=t.closed_at,
    )


def ticket_detail(session: Session, t: Ticket, g: Grid, principal: TokenPrincipal) -> TicketDetail:
    """A ticket with its masked audit trail and the caller's allowed actions."""
    names = queries.person_names(session, [t.assignee_id])
    events = [
        TicketEventOut(
            at=e.at,
            action=e.action,
            actor_id=e.actor_id,
            actor_name=name,
            from_status=e.from_status,
            to_status=e.to_status,
            note=privacy.text(e.note),
            data=privacy.data(e.data or {}),
        )
        for e, name in queries.ticket_events(session, t.id)
    ]
    actions = allowed_actions(t, g, principal.actor, is_reporter(session, t, principal.actor.person_id))
    return TicketDetail(
        **ticket(t, g).model_dump(),
        assignee_name=names.get(t.assignee_id) if t.assignee_id else None,
        resolution_note=privacy.text(t.resolution_note),
        reporters=queries.reporter_count(session, t),
        events=events,
        allowed_actions=[a.value for a in actions],
    )


def message(m: Message, sender_name: str | None) -> MessageOut:
    """A group message, text masked."""
    return MessageOut(
        id=m.id,
        grid_id=m.grid_id,
        direction=m.direction,
        sender_id=m.sender_id,
        sender_name=sender_name,
        sender_role=m.sender_role,
        text=privacy.text(m.text) or "",
        sent_at=m.sent_at,
        kind=m.kind,
        category=m.category,
        ticket_number=m.ticket_id,
    )


def rating(r: Rating, t: Ticket) -> RatingOut:
    """A rating, comment masked."""
    return RatingOut(
        id=r.id,
        ticket_number=t.id,
        grid_id=t.grid_id,
        cycle=r.cycle,
        score=r.score,
        comment=privacy.text(r.comment),
        created_at=r.created_at,
    )

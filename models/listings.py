"""Read queries for the administrators' API: lists with filters, scope and cursor pagination.

A scope is a region path prefix ('/1/4/'): a row is visible when its grid's `region_path`, or its
region's `path`, starts with it. Lists are ordered newest first on (timestamp, id) and paged with
an opaque cursor holding the last row's pair, so concurrent inserts never repeat or skip a row.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gridbot.models.entities import (
    BotStatus,
    ChatGroup,
    Grid,
    MemberSnapshot,
    Message,
    Person,
    Rating,
    Region,
    RoleAssignment,
    Ticket,
    TicketEvent,
)
from gridbot.models.enums import Role, TicketKind, TicketStatus
from gridbot.models.messaging import bot_status
from gridbot.models.metrics.period import Period
from gridbot.models.metrics.rules import AnySelect, overdue_at

T = TypeVar("T")


class BadCursor(ValueError):
    """A cursor that this module did not produce."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and the cursor of the next page (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(at: datetime | None, row_id: int) -> str:
    """An opaque cursor for the row (at, id)."""
    raw = json.dumps([at.isoformat() if at else None, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, int]:
    """The (at, id) pair in a cursor; BadCursor when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = json.loads(raw)
        when = datetime.fromisoformat(at).astimezone(UTC) if at is not None else None
        if not isinstance(row_id, int) or not 0 <= row_id < 2**31:
            raise ValueError(row_id)
        return when, row_id
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise BadCursor("invalid cursor") from exc


def in_scope(path: str, scope_path: str) -> bool:
    """Whether a region path (or a grid's region_path) lies in the scope subtree."""
    return path.startswith(scope_path)


def _paged(
    session: Session,
    stmt: AnySelect,
    at_col: InstrumentedAttribute[datetime] | None,
    id_col: InstrumentedAttribute[int],
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    """Newest first on (at, id); fetch one extra row to know whether there is a next page."""
    if cursor is not None:
        at, row_id = decode_cursor(cursor)
        if at_col is not None and at is not None:
            stmt = stmt.where(or_(at_col < at, and_(at_col == at, id_col < row_id)))
        else:
            stmt = stmt.where(id_col < row_id)
    order = [at_col.desc(), id_col.desc()] if at_col is not None else [id_col.desc()]
    rows = list(session.execute(stmt.order_by(*order).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    items = [r[0] if len(r) == 1 else tuple(r) for r in rows]
    if not more or not rows:
        return Page(items, None)
    last = rows[-1][0]
    return Page(items, encode_cursor(getattr(last, at_col.key) if at_col is not None else None, last.id))


# ---- regions, grids, people ---------------------------------------------------------------------


def regions_in_scope(session: Session, scope_path: str) -> list[Region]:
    """Every region of the scope subtree, in tree order."""
    return list(
        session.scalars(select(Region).where(Region.path.startswith(scope_path)).order_by(Region.path))
    )


def region_children(session: Session, region_id: int) -> list[Region]:
    """The direct children of a region."""
    return list(session.scalars(select(Region).where(Region.parent_id == region_id).order_by(Region.id)))


def grids_in_scope(
    session: Session, scope_path: str, limit: int, cursor: str | None, community_id: int | None = None
) -> Page[Grid]:
    """Grids of the scope, optionally of one community."""
    stmt = select(Grid).where(Grid.region_path.startswith(scope_path))
    if community_id is not None:
        stmt = stmt.where(Grid.community_id == community_id)
    return _paged(session, stmt, None, Grid.id, limit, cursor)


@dataclass(frozen=True)
class GroupInfo:
    """A bound WeChat group with its latest member count."""

    group: ChatGroup
    member_count: int | None
    counted_at: datetime | None
    bot: BotStatus | None = None


@dataclass(frozen=True)
class GridDetail:
    """A grid with its groups and its workers (person, role)."""

    grid: Grid
    groups: list[GroupInfo]
    workers: list[tuple[Person, Role]] = field(default_factory=list)


def grid_detail(session: Session, grid_id: int) -> GridDetail | None:
    """A grid, its bound groups with their latest member counts, and its active workers."""
    grid = session.get(Grid, grid_id)
    if grid is None:
        return None
    statuses = {s.account: s for s in bot_status.read_all(session)}
    only = next(iter(statuses.values())) if len(statuses) == 1 else None
    groups = []
    for group in session.scalars(
        select(ChatGroup).where(ChatGroup.grid_id == grid_id).order_by(ChatGroup.id)
    ):
        snap = session.execute(
            select(MemberSnapshot.member_count, MemberSnapshot.taken_at)
            .where(MemberSnapshot.group_id == group.id)
            .order_by(MemberSnapshot.taken_at.desc())
            .limit(1)
        ).first()
        # a group without a recorded bot account is served by the only bot, when there is one
        bot = statuses.get(group.bot_account) if group.bot_account else only
        groups.append(GroupInfo(group, snap[0] if snap else None, snap[1] if snap else None, bot))
    workers = session.execute(
        select(Person, RoleAssignment.role)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.grid_id == grid_id, RoleAssignment.active, RoleAssignment.role != Role.RESIDENT)
        .order_by(Person.id)
    ).all()
    return GridDetail(grid, groups, [(p, r) for p, r in workers])


def people_in_scope(
    session: Session,
    scope_path: str,
    limit: int,
    cursor: str | None,
    role: Role | None = None,
    grid_id: int | None = None,
) -> Page[tuple[RoleAssignment, Person, Grid | None, Region | None]]:
    """Active role assignments held in the scope's grids or over its regions, with the person."""
    stmt = (
        select(RoleAssignment, Person, Grid, Region)
        .join(Person, Person.id == RoleAssignment.person_id)
        .outerjoin(Grid, Grid.id == RoleAssignment.grid_id)
        .outerjoin(Region, Region.id == RoleAssignment.region_id)
        .where(
            RoleAssignment.active,
            or_(Grid.region_path.startswith(scope_path), Region.path.startswith(scope_path)),
        )
    )
    if role is not None:
        stmt = stmt.where(RoleAssignment.role == role)
    if grid_id is not None:
        stmt = stmt.where(RoleAssignment.grid_id == grid_id)
    return _paged(session, stmt, None, RoleAssignment.id, limit, cursor)


# ---- tickets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFilter:
    """Filters of the ticket list; dates are local (Asia/Shanghai) days, both ends included."""

    statuses: Sequence[TicketStatus] = ()
    kind: TicketKind | None = None
    category: str | None = None
    grid_id: int | None = None
    assignee_id: int | None = None
    overdue: bool | None = None
    created_from: date | None = None
    created_to: date | None = None


def _ticket_conditions(f: TicketFilter, now: datetime) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.statuses:
        conds.append(Ticket.status.in_(list(f.statuses)))
    if f.kind is not None:
        conds.append(Ticket.kind == f.kind)
    if f.category is not None:
        conds.append(Ticket.category == f.category)
    if f.grid_id is not None:
        conds.append(Ticket.grid_id == f.grid_id)
    if f.assignee_id is not None:
        conds.append(Ticket.assignee_id == f.assignee_id)
    if f.overdue is not None:
        late = overdue_at(now)
        conds.append(late if f.overdue else ~late)
    if f.created_from is not None or f.created_to is not None:
        days = Period.local_days(f.created_from or date(2000, 1, 1), f.created_to or date(2100, 1, 1))
        if f.created_from is not None:
            conds.append(Ticket.created_at >= days.start)
        if f.created_to is not None:
            conds.append(Ticket.created_at < days.end)
    return conds


def tickets_in_scope(
    session: Session, scope_path: str, f: TicketFilter, limit: int, cursor: str | None, now: datetime
) -> Page[tuple[Ticket, Grid]]:
    """Tickets of the scope's grids matching the filter, newest first."""
    stmt = (
        select(Ticket, Grid)
        .join(Grid, Grid.id == Ticket.grid_id)
        .where(Grid.region_path.startswith(scope_path), *_ticket_conditions(f, now))
    )
    return _paged(session, stmt, Ticket.created_at, Ticket.id, limit, cursor)


def ticket_events(session: Session, ticket_id: int) -> list[tuple[TicketEvent, str | None]]:
    """A ticket's audit trail in order, with each actor's display name."""
    rows = session.execute(
        select(TicketEvent, Person.name)
        .outerjoin(Person, Person.id == TicketEvent.actor_id)
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.at, TicketEvent.id)
    ).all()
    return [(e, n) for e, n in rows]


def person_names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    """Display names of the given people."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Person.id, Person.name).where(Person.id.in_(wanted))).all()
    return {pid: name for pid, name in rows}


def reporter_count(session: Session, ticket: Ticket) -> int:
    """How many residents reported the ticket (merged duplicates included)."""
    return len(ticket.reporters) or (1 if ticket.reporter_id else 0)


# ---- messages and ratings -----------------------------------------------------------------------


def messages_in_scope(
    session: Session, scope_path: str, limit: int, cursor: str | None, grid_id: int | None = None
) -> Page[tuple[Message, str | None]]:
    """Group messages of the scope's grids, newest first, with the sender's display name."""
    stmt = (
        select(Message, Person.name)
        .join(Grid, Grid.id == Message.grid_id)
        .outerjoin(Person, Person.id == Message.sender_id)
        .where(Grid.region_path.startswith(scope_path))
    )
    if grid_id is not None:
        stmt = stmt.where(Message.grid_id == grid_id)
    return _paged(session, stmt, Message.sent_at, Message.id, limit, cursor)


def ratings_in_scope(
    session: Session, scope_path: str, limit: int, cursor: str | None, grid_id: int | None = None
) -> Page[tuple[Rating, Ticket]]:
    """Ratings of tickets in the scope's grids, newest first."""
    stmt = (
        select(Rating, Ticket)
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .join(Grid, Grid.id == Ticket.grid_id)
        .where(Grid.region_path.startswith(scope_path))
    )
    if grid_id is not None:
        stmt = stmt.where(Ticket.grid_id == grid_id)
    return _paged(session, stmt, Rating.created_at, Rating.id, limit, cursor)

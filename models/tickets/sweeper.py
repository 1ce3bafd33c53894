"""Deadline sweeper: fires due SLA levels exactly once and writes one digest per person per sweep.

The database is the source of truth, and the work is set-based: each batch, in one transaction, a
few statements copy the due deadline rows into a temporary table (locking them, SKIP LOCKED on
PostgreSQL), insert their reminder-log rows with `INSERT … SELECT … ON CONFLICT DO NOTHING`
(UNIQUE ticket, kind, cycle, level: a second sweeper can never fire a level twice), advance the
deadlines, and summarise the digests per person in SQL; Python only resolves who hears a level
(per grid, not per ticket) and renders the bounded digest text. A crash before a batch commits
re-fires that batch next sweep; after it commits, nothing of it is redone. The coordinator lock only
avoids wasted work; correctness does not depend on it.

A deadline is told at one level per sweep, its highest due one: after an outage a deadline four
levels behind tells the street admin once, not the whole ladder; the levels it passed over are
recorded compactly in that log row (`skipped`). In normal running each level is due on its own.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models import failpoints
from gridbot.models.db import is_postgres
from gridbot.models.entities import (
    ChatGroup,
    Grid,
    Message,
    Outbox,
    Person,
    ReminderLog,
    ReminderQuiet,
    Ticket,
    TicketDeadline,
)
from gridbot.models.entities.base import UTCDateTime
from gridbot.models.enums import OPEN_STATUSES, DeadlineKind, OutboxStatus, Priority, Role, TicketStatus
from gridbot.models.messaging.coordination import Coordinator
from gridbot.models.messaging.outbox import enqueue
from gridbot.models.org.directory import grid_workers, region_admins
from gridbot.models.tickets.digests import MAX_LINES, Digest, DigestItem
from gridbot.models.tickets.sla import SLAPolicy

logger = logging.getLogger(__name__)
LOCK_NAME = "sla-sweeper"
_ROLE_OF = {
    "grid_leader": Role.GRID_LEADER,
    "community_admin": Role.COMMUNITY_ADMIN,
    "street_admin": Role.STREET_ADMIN,
    "district_admin": Role.DISTRICT_ADMIN,
}
_WORKERS = frozenset({Role.GRIDWORKER, Role.PARTTIME_GRIDWORKER})
Who = tuple[int, str | None]  # person id, platform id
FIRE, PAUSE, STOP = 0, 1, 2  # what a batch does with a due deadline row

# Per-transaction scratch tables (TEMPORARY: private to the connection, never in the schema).
_scratch = MetaData()
_DUE = Table(
    "sweep_due",
    _scratch,
    Column("deadline_id", Integer, primary_key=True),
    Column("ticket_id", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("grid_id", Integer, nullable=False),
    Column("assignee_key", Integer, nullable=False),  # assignee id, 0 when unassigned
    Column("action", Integer, nullable=False),
    Column("old_level", Integer, nullable=False),
    Column("level", Integer, nullable=False),  # the highest due level: the one told
    Column("due_at", UTCDateTime(), nullable=False),
    Column("next_fire_at", UTCDateTime()),
    Column("in_room", Boolean, nullable=False),  # told in the residents' group (else directly)
    Column("urgent", Boolean, nullable=False),
    Column("told", Boolean, nullable=False),
    Column("room", String(128)),
    prefixes=["TEMPORARY"],
)
_TO = Table(
    "sweep_to",
    _scratch,
    Column("level", Integer, nullable=False),
    Column("grid_id", Integer, nullable=False),
    Column("assignee_key", Integer, nullable=False),
    Column("person_id", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)


@dataclass
class SweepResult:
    """What one sweep did."""

    examined: int = 0  # deadline rows read
    fired: int = 0  # ReminderLog rows this sweep inserted (levels told)
    passed_over: int = 0  # lower levels those rows stand for, not told (an outage)
    digests: int = 0  # outbox rows this sweep created
    batches: int = 0
    skipped: bool = False  # another instance held the sweeper lock


@dataclass
class _Recipient:
    platform_id: str | None
    digest: Digest = field(default_factory=Digest)
    outbox_id: int | None = None
    part: int = 0


@dataclass
class _SweepState:
    sweep_id: str
    now: datetime
    policy: SLAPolicy
    digests: dict[int, _Recipient] = field(default_factory=dict)
    people: dict[tuple[int, str], list[Who]] = field(default_factory=dict)
    after: tuple[datetime, int] | None = None  # keyset position: the last (next_fire_at, id) read
    released: set[int] = field(default_factory=set)  # people whose digest this sweep sent at once


def sweep(
    session_factory: sessionmaker[Session],
    policy: SLAPolicy,
    now: datetime,
    coordinator: Coordinator,
    batch_size: int = 20_000,
    *,
    lock_ttl_s: float = 120.0,
    after_batch: Callable[[int], None] | None = None,
) -> SweepResult:
    """Fire every due deadline's highest level once, batch by batch (each batch commits)."""
    result = SweepResult()
    with coordinator.lock(LOCK_NAME, lock_ttl_s) as held:
        if not held.acquired:
            logger.info("sweeper lock held by another instance; skipping this sweep")
            result.skipped = True
            return result
        state = _SweepState(sweep_id=uuid.uuid4().hex[:16], now=now, policy=policy)
        while True:
            with session_factory() as session, session.begin():
                n = _sweep_batch(session, state, batch_size, result)
            if n:
                failpoints.hit("sweep.enqueued")
            if n == 0:
                break
            result.batches += 1
            if not held.extend(lock_ttl_s):
                logger.warning("sweeper lock lost mid-sweep; row locks and UNIQUE keys keep it exactly-once")
            if after_batch is not None:
                after_batch(result.batches)
            if n < batch_size:
                break
    logger.info(
        "sweep %s: %d deadlines, %d levels told (%d passed over), %d digests",
        state.sweep_id,
        result.examined,
        result.fired,
        result.passed_over,
        result.digests,
    )
    return result


def _sweep_batch(session: Session, state: _SweepState, batch_size: int, result: SweepResult) -> int:
    """One transaction: fire the due levels of up to `batch_size` deadlines; returns rows read."""
    conn = session.connection()
    for table in (_DUE, _TO):
        conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))  # a SQLite connection keeps it
        table.create(conn)
    n = _collect(session, state, batch_size)
    if n == 0:
        return 0
    result.examined += n
    if is_postgres(session):
        conn.execute(text(f"ANALYZE {_DUE.name}"))  # autovacuum never sees temporary tables
    last = conn.execute(
        select(_DUE.c.next_fire_at, _DUE.c.deadline_id)
        .order_by(_DUE.c.next_fire_at.desc(), _DUE.c.deadline_id.desc())
        .limit(1)
    ).one()
    state.after = (last[0], last[1])
    fired, passed_over = _insert_logs(session, state.now)
    result.fired += fired
    result.passed_over += passed_over
    _advance(session, state.now)
    if fired:
        _escalate(session)
        _address_rooms(session)
        _resolve_recipients(session, state)
        result.digests += _write_digests(session, state)
    for table in (_TO, _DUE):
        table.drop(conn)
    return n


def _collect(session: Session, state: _SweepState, batch_size: int) -> int:
    """Copy (and lock) the next due deadlines into the scratch table; returns how many."""
    d, t, now = TicketDeadline, Ticket, state.now
    top = case(
        (d.escalate2_at <= now, 4),
        (d.escalate1_at <= now, 3),
        (d.due_at <= now, 2),
        (d.warn_at <= now, 1),
        else_=0,
    )
    action = case(
        (t.status == TicketStatus.SUSPENDED, PAUSE),  # the lifecycle should have paused it
        (t.status.not_in(OPEN_STATUSES), STOP),  # closed without stop_all: never fire again
        else_=FIRE,
    )
    stmt = (
        select(
            d.id,
            d.ticket_id,
            d.kind,
            d.cycle,
            t.grid_id,
            func.coalesce(t.assignee_id, 0),
            action,
            d.fired_level,
            top,
            d.due_at,
            d.next_fire_at,
            t.needs_review.is_(False),  # anything still 待确认 goes to the staff directly
            t.priority == Priority.URGENT,
            literal(False),
        )
        .join(t, t.id == d.ticket_id)
        .where(d.next_fire_at <= now, d.met_at.is_(None), d.paused_at.is_(None))
        .order_by(d.next_fire_at, d.id)
        .limit(batch_size)
    )
    if is_postgres(session):
        if state.after is not None:
            # Keyset, not a rescan from the start: the index entries of rows this sweep already
            # advanced stay at the head of the index until vacuum, making rescans quadratic.
            # (SQLite drops them at once; its planner sorts the whole rest for a row-value OR.)
            stmt = stmt.where(tuple_(d.next_fire_at, d.id) > tuple_(*state.after))
        stmt = stmt.with_for_update(skip_locked=True, of=d)
    cols = [c.name for c in _DUE.c if c.name != "room"]
    conn = session.connection()
    conn.execute(insert(_DUE).from_select(cols, stmt))
    return int(conn.scalar(select(func.count()).select_from(_DUE)) or 0)  # rowcount: -1 on psycopg


def _insert_logs(session: Session, now: datetime) -> tuple[int, int]:
    """Log the level each due deadline tells; returns (rows inserted, lower levels they passed over)."""
    conn, due, log = session.connection(), _DUE.c, cast(Table, ReminderLog.__table__).c
    logged = exists().where(
        log.ticket_id == due.ticket_id,
        log.deadline_kind == due.kind,
        log.cycle == due.cycle,
        log.level == due.level,
    )
    # already logged (a deadline restored after it fired): advance it, tell nobody again
    conn.execute(update(_DUE).where(due.action == FIRE, due.level > due.old_level, ~logged).values(told=True))
    told = _DUE.c.told.is_(True)
    rows = select(
        due.ticket_id,
        due.kind,
        due.cycle,
        due.level,
        due.level - due.old_level - 1,
        case((due.level == 1, func.nullif(due.assignee_key, 0)), else_=null()),
        literal(now, UTCDateTime()),
    ).where(told)
    ins = postgresql.insert if is_postgres(session) else sqlite.insert
    cols = ["ticket_id", "deadline_kind", "cycle", "level", "skipped", "recipient_id", "fired_at"]
    stmt = ins(cast(Table, ReminderLog.__table__)).from_select(cols, rows)
    stmt = stmt.on_conflict_do_nothing(index_elements=["ticket_id", "deadline_kind", "cycle", "level"])
    if is_postgres(session):  # psycopg reports no rowcount for INSERT … SELECT: count what it returns
        ins_cte = stmt.returning(literal(1)).cte("ins")
        fired = conn.scalar(select(func.count()).select_from(ins_cte))
    else:
        fired = conn.execute(stmt).rowcount
    skipped = conn.scalar(select(func.coalesce(func.sum(due.level - due.old_level - 1), 0)).where(told))
    return int(fired or 0), int(skipped or 0)


def _advance(session: Session, now: datetime) -> None:
    """Move each deadline of the batch past the level it told (or stop/pause it)."""
    d, due = TicketDeadline, _DUE.c
    fire = due.action == FIRE
    level = case((and_(fire, due.level > due.old_level), due.level), else_=due.old_level)
    nxt = case(
        (due.action != FIRE, null()),
        (level == 0, d.warn_at),
        (level == 1, d.due_at),
        (level == 2, d.escalate1_at),
        (level == 3, d.escalate2_at),
        else_=null(),
    )
    session.connection().execute(
        update(cast(Table, d.__table__))
        .where(d.id == due.deadline_id, d.id.in_(select(due.deadline_id)))  # SQLite: by key, no scan
        .values(
            fired_level=level,
            next_fire_at=nxt,
            paused_at=case((due.action == PAUSE, literal(now, UTCDateTime())), else_=d.paused_at),
            breached_at=case(
                (and_(fire, level >= 2, d.breached_at.is_(None)), d.due_at), else_=d.breached_at
            ),
        )
    )


def _escalate(session: Session) -> None:
    """Raise each told ticket's escalation level (Core: no version bump, so no user edit goes stale)."""
    due, t = _DUE.c, cast(Table, Ticket.__table__)
    top = select(due.ticket_id, func.max(due.level).label("level")).where(due.told.is_(True))
    top_q = top.group_by(due.ticket_id).subquery()
    session.connection().execute(
        update(t)
        .where(t.c.id == top_q.c.ticket_id, t.c.escalation_level < top_q.c.level)
        .values(escalation_level=top_q.c.level)
    )


def _address_rooms(session: Session) -> None:
    """The room each group-told item goes to: where the ticket was reported, else the grid's first.

    Community and street 督办 (levels 3-4) go to the admins directly, not into the residents' group.
    """
    due, g = _DUE.c, ChatGroup
    reported = (
        select(g.room_id)
        .join(Message, Message.group_id == g.id)
        .join(Ticket, Ticket.source_message_id == Message.id)
        .where(Ticket.id == due.ticket_id, g.grid_id == Ticket.grid_id)
        .limit(1)
        .scalar_subquery()
    )
    first = (
        select(g.room_id)
        .where(g.grid_id == due.grid_id, g.staff_room.is_(False))
        .order_by(g.bound_at.asc().nulls_last(), g.id)
        .limit(1)
        .scalar_subquery()
    )
    session.connection().execute(
        update(_DUE)
        .where(due.told.is_(True), due.in_room.is_(True), due.level < 3)
        .values(room=func.coalesce(reported, first))
    )


def _resolve_recipients(session: Session, state: _SweepState) -> None:
    """Who hears each (level, grid, assignee) of the batch, into the scratch table."""
    conn, due = session.connection(), _DUE.c
    keys = conn.execute(
        select(due.level, due.grid_id, due.assignee_key).where(due.told.is_(True)).distinct()
    ).all()
    rows = []
    for level, grid_id, assignee in keys:
        for person_id, platform_id in _recipients(session, state, level, grid_id, assignee or None):
            rows.append(dict(level=level, grid_id=grid_id, assignee_key=assignee, person_id=person_id))
            state.digests.setdefault(person_id, _Recipient(platform_id=platform_id))
    if rows:
        conn.execute(insert(_TO), rows)


def _recipients(
    session: Session, state: _SweepState, level: int, grid_id: int, assignee_id: int | None
) -> list[Who]:
    """Who hears about `level` of a ticket in `grid_id`, per the policy's ladder."""
    out: list[Who] = []
    for who in state.policy.recipients.get(level, ()):
        if who == "assignee" and assignee_id is not None:
            out.extend(_people(session, state, ("person", assignee_id)))
        elif who in ("assignee", "gridworkers"):
            out.extend(_people(session, state, ("workers", grid_id)))
        else:
            out.extend(_people(session, state, (who, grid_id)))
    if not out:
        logger.warning("no recipient for level %d of a ticket in grid %d", level, grid_id)
    return list(dict.fromkeys(out))


def _people(session: Session, state: _SweepState, key: tuple[str, int]) -> list[Who]:
    what, ident = key
    if (ident, what) not in state.people:
        if what == "person":
            found = [p for p in [session.get(Person, ident)] if p is not None]
        elif what == "workers":
            found = grid_workers(session, ident, _WORKERS) or grid_workers(
                session, ident, frozenset({Role.GRID_LEADER})
            )
        elif what == "grid_leader":
            found = grid_workers(session, ident, frozenset({Role.GRID_LEADER}))
        else:
            grid = session.get(Grid, ident)
            found = region_admins(session, grid, _ROLE_OF[what]) if grid else []
        state.people[(ident, what)] = [(p.id, p.platform_id) for p in found]
    return state.people[(ident, what)]


@dataclass
class _Part:
    """One recipient's share of one batch, as the summary queries return it."""

    sections: dict[str, tuple[int, int]] = field(default_factory=dict)  # items, distinct tickets
    lines: dict[str, list[DigestItem]] = field(default_factory=dict)
    rooms: set[str | None] = field(default_factory=set)
    ticket_ids: set[int] = field(default_factory=set)
    urgent: bool = False

    def into(self, digest: Digest) -> None:
        for sec, (n, tickets) in self.sections.items():
            digest.add(sec, n, tickets, self.lines.get(sec, []))
        digest.add_rooms(self.rooms)
        digest.add_tickets(self.ticket_ids)


def _summaries(session: Session, state: _SweepState) -> dict[int, _Part]:
    """Each recipient's part of this batch, summarised in SQL (a few rows a person, at any volume)."""
    conn, due, to = session.connection(), _DUE.c, _TO.c
    joined = and_(
        due.told.is_(True),
        to.level == due.level,
        to.grid_id == due.grid_id,
        to.assignee_key == due.assignee_key,
    )
    now = literal(state.now, UTCDateTime())
    sec = case((due.level >= 2, "late"), (due.due_at > now, "soon"), else_="own_late").label("sec")
    items = select(to.person_id, sec, due.ticket_id, due.kind, due.level, due.due_at, due.room, due.urgent)
    q = items.where(joined).subquery()
    out: dict[int, _Part] = {}
    counts = select(q.c.person_id, q.c.sec, func.count(), func.count(q.c.ticket_id.distinct()))
    for person_id, s, n, tickets in conn.execute(counts.group_by(q.c.person_id, q.c.sec)):
        out.setdefault(person_id, _Part()).sections[s] = (n, tickets)
    # the first lines of each section, in the order a reader acts on them (closest due first)
    rank = func.row_number().over(
        partition_by=(q.c.person_id, q.c.sec), order_by=(q.c.due_at, q.c.ticket_id, q.c.kind)
    )
    ranked = select(q, rank.label("rn")).subquery()
    first = (
        select(ranked.c.person_id, ranked.c.sec, ranked.c.ticket_id, Ticket.category, ranked.c.kind)
        .add_columns(ranked.c.level, ranked.c.due_at)
        .join(Ticket, Ticket.id == ranked.c.ticket_id)
        .where(ranked.c.rn <= MAX_LINES)
        .order_by(ranked.c.person_id, ranked.c.sec, ranked.c.rn)
    )
    for person_id, s, ticket_id, category, kind, level, due_at in conn.execute(first):
        label = state.policy.category_label(category)
        item = DigestItem(ticket_id, label, DeadlineKind(kind), level, due_at - state.now)
        out[person_id].lines.setdefault(s, []).append(item)
    spread = select(
        q.c.person_id,
        func.min(q.c.room),
        func.max(q.c.room),
        func.sum(case((q.c.room.is_(None), 1), else_=0)),
        func.min(q.c.ticket_id),
        func.max(q.c.ticket_id),
        func.max(case((q.c.urgent.is_(True), 1), else_=0)),
    ).group_by(q.c.person_id)
    for person_id, lo, hi, roomless, t_lo, t_hi, urgent in conn.execute(spread):
        part = out[person_id]
        part.rooms = {r for r in (lo, hi) if r is not None} | ({None} if roomless else set())
        part.ticket_ids = {t_lo, t_hi}
        part.urgent = bool(urgent)
    return out


def _write_digests(session: Session, state: _SweepState) -> int:
    """Extend this sweep's digests, or start them; returns outbox rows created."""
    parts = _summaries(session, state)
    open_ids = {rc.outbox_id for p in parts if (rc := state.digests[p]).outbox_id is not None}
    # Lock the digests the sender has not claimed yet; the sender's SKIP LOCKED then leaves them be.
    stmt = select(Outbox.id).where(
        Outbox.id.in_(open_ids), Outbox.status == OutboxStatus.PENDING, Outbox.claimed_by.is_(None)
    )
    extendable = set(session.scalars(stmt.with_for_update())) if open_ids else set()
    updates: list[dict[str, Any]] = []
    created = 0
    quiet = _quiet_rows(session, state, list(parts))
    for person_id, part in parts.items():
        rc = state.digests[person_id]
        if rc.platform_id is None:
            logger.warning("person %d has no platform id; digest not sent", person_id)
            continue
        if rc.outbox_id is not None and rc.outbox_id not in extendable:
            rc.part += 1  # the sender took the earlier part already: start another
            rc.digest, rc.outbox_id = Digest(), None
        part.into(rc.digest)
        text_, kind, room = rc.digest.render()
        if rc.outbox_id is not None:
            updates.append(
                {"id": rc.outbox_id, "text": text_, "kind": kind, **_address(room, rc.platform_id)}
            )
            continue
        ids = rc.digest.ticket_ids
        row = enqueue(
            session,
            dedupe_key=f"sla:{state.sweep_id}:{person_id}:{rc.part}",
            kind=kind,
            text=text_,
            now=state.now,
            ticket_id=next(iter(ids)) if len(ids) == 1 else None,
            **_address(room, rc.platform_id),
        )
        rc.outbox_id = row.id
        created += 1
        _pace(session, state, quiet, person_id, row, part.urgent)
    if updates:
        session.execute(update(Outbox), updates)  # bulk UPDATE by primary key
    return created


def _quiet_rows(session: Session, state: _SweepState, people: list[int]) -> dict[int, datetime]:
    """When each of these people last got a digest released at once (the quiet period's start)."""
    if not state.policy.quiet or not people:
        return {}
    rows = session.execute(
        select(ReminderQuiet.person_id, ReminderQuiet.last_at).where(ReminderQuiet.person_id.in_(people))
    )
    return {person: at for person, at in rows}


def _pace(
    session: Session,
    state: _SweepState,
    quiet: dict[int, datetime],
    person_id: int,
    row: Outbox,
    urgent: bool,
) -> None:
    """Hold a new digest until the person's quiet period ends (urgent ones go at once)."""
    period = state.policy.quiet
    if not period:
        return
    last = quiet.get(person_id)
    this_sweep = person_id in state.released  # later parts of a digest released in this sweep
    if last is not None and not urgent and not this_sweep and last + period > state.now:
        # held: every digest of the period goes out at the same instant (the sender merges them)
        row.next_attempt_at = last + period
        return
    state.released.add(person_id)
    quiet[person_id] = state.now
    ins = postgresql.insert if is_postgres(session) else sqlite.insert
    table = cast(Table, ReminderQuiet.__table__)
    # an upsert: two sweepers (a lost lock) may pace the same person at once
    session.execute(
        ins(table)
        .values(person_id=person_id, last_at=state.now)
        .on_conflict_do_update(index_elements=["person_id"], set_={"last_at": state.now})
    )


def _address(room: str | None, platform_id: str) -> dict[str, Any]:
    """In the group with an @mention when there is one room, else a direct message."""
    if room is not None:
        return {"room_id": room, "mention_ids": [platform_id], "recipient_platform_id": None}
    return {"room_id": None, "mention_ids": [], "recipient_platform_id": platform_id}

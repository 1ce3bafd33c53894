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

The cost is the rows a batch writes. The ticket's escalation update stays on its page (tickets
fillfactor 50) and the log insert is a plain one; the deadline update cannot be HOT while
`next_fire_at` is indexed, so it writes a new row and three index entries a told deadline, the
largest cost left after an outage. Removing it needs the due set found by the level instants
themselves past a committed sweep watermark, with the lifecycle lowering that watermark whenever
it sets an instant before it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    null,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models import failpoints
from gridbot.models.db import is_postgres
from gridbot.models.entities import (
    ChatGroup,
    Message,
    ReminderLog,
    Ticket,
    TicketDeadline,
)
from gridbot.models.entities.base import UTCDateTime
from gridbot.models.enums import OPEN_STATUSES, Priority, TicketStatus
from gridbot.models.messaging.coordination import Coordinator
from gridbot.models.tickets.sla import SLAPolicy
from gridbot.models.tickets.sweep_digests import (
    DUE,
    FIRE,
    PAUSE,
    STOP,
    TO,
    SweepState,
    resolve_recipients,
    write_digests,
)

logger = logging.getLogger(__name__)
LOCK_NAME = "sla-sweeper"


@dataclass
class SweepResult:
    """What one sweep did."""

    examined: int = 0  # deadline rows read
    fired: int = 0  # ReminderLog rows this sweep inserted (levels told)
    passed_over: int = 0  # lower levels those rows stand for, not told (an outage)
    digests: int = 0  # outbox rows this sweep created
    batches: int = 0
    skipped: bool = False  # another instance held the sweeper lock


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
        state = SweepState(sweep_id=uuid.uuid4().hex[:16], now=now, policy=policy)
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


def _sweep_batch(session: Session, state: SweepState, batch_size: int, result: SweepResult) -> int:
    """One transaction: fire the due levels of up to `batch_size` deadlines; returns rows read."""
    conn = session.connection()
    if is_postgres(session):
        # these statements run once a batch over thousands of rows; compiling them (JIT) costs
        # more than it saves, and its estimate cannot know the scratch table is about to fill
        conn.execute(text("SET LOCAL jit = off"))
        # the scratch tables' sorts and hashes (a batch of thousands) in memory, not on disk
        conn.execute(text("SET LOCAL work_mem = '64MB'"))
        # A batch's commit need not wait for its WAL to reach disk: a server crash can only lose
        # whole recent batches (never part of one), and a lost batch is re-fired by the next sweep
        # like a rolled-back one. Nothing of it can have been sent: the sender's claim commits
        # synchronously after it, and that flush carries the batch's WAL with it.
        conn.execute(text("SET LOCAL synchronous_commit = off"))
    for table in (DUE, TO):
        conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))  # a SQLite connection keeps it
        table.create(conn)
    n = _collect(session, state, batch_size)
    if n == 0:
        return 0
    result.examined += n
    if is_postgres(session):
        conn.execute(text(f"ANALYZE {DUE.name}"))  # autovacuum never sees temporary tables
    last = conn.execute(
        select(DUE.c.next_fire_at, DUE.c.deadline_id)
        .order_by(DUE.c.next_fire_at.desc(), DUE.c.deadline_id.desc())
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
        resolve_recipients(session, state)
        result.digests += write_digests(session, state)
    for table in (TO, DUE):
        table.drop(conn)
    return n


def _collect(session: Session, state: SweepState, batch_size: int) -> int:
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
    told = and_(action == FIRE, top > d.fired_level)  # unless already logged: see _insert_logs
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
            told,
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
    cols = [c.name for c in DUE.c if c.name != "room"]
    conn = session.connection()
    conn.execute(insert(DUE).from_select(cols, stmt))
    return int(conn.scalar(select(func.count()).select_from(DUE)) or 0)  # rowcount: -1 on psycopg


def _insert_logs(session: Session, now: datetime) -> tuple[int, int]:
    """Log the level each due deadline tells; returns (rows inserted, lower levels they passed over).

    A level already logged (a deadline restored after it fired) is told to nobody again: its row is
    marked untold first, by one probe of the UNIQUE key per scratch row (a correlated scalar
    subquery: PostgreSQL runs it as an index probe, never a hash of the whole log). The insert that
    follows is a plain one: the deadline rows of the batch are locked (or SQLite's one writer holds
    the database), so no other transaction can log the same key meanwhile, and should one ever try,
    the UNIQUE key fails the batch rather than telling twice. A plain insert writes about half the
    WAL of ON CONFLICT's speculative insertion.
    """
    conn, due = session.connection(), DUE.c
    log = cast(Table, ReminderLog.__table__)
    told = due.told.is_(True)
    logged = (
        select(literal(1))
        .where(
            log.c.ticket_id == due.ticket_id,
            log.c.deadline_kind == due.kind,
            log.c.cycle == due.cycle,
            log.c.level == due.level,
        )
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(update(DUE).where(told, logged.is_not(None)).values(told=False))
    rows = select(
        due.ticket_id,
        due.kind,
        due.cycle,
        due.level,
        due.level - due.old_level - 1,
        case((due.level == 1, func.nullif(due.assignee_key, 0)), else_=null()),
        literal(now, UTCDateTime()),
    ).where(told)
    cols = ["ticket_id", "deadline_kind", "cycle", "level", "skipped", "recipient_id", "fired_at"]
    conn.execute(insert(log).from_select(cols, rows))
    fired, skipped = conn.execute(
        select(func.count(), func.coalesce(func.sum(due.level - due.old_level - 1), 0)).where(told)
    ).one()
    return int(fired), int(skipped)


def _advance(session: Session, now: datetime) -> None:
    """Move each deadline of the batch past the level it told (or stop/pause it)."""
    d, due = TicketDeadline, DUE.c
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
    by_key = d.id == due.deadline_id
    if not is_postgres(session):
        by_key = and_(by_key, d.id.in_(select(due.deadline_id)))  # SQLite: by key, no scan
    session.connection().execute(
        update(cast(Table, d.__table__))
        .where(by_key)
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
    due, t = DUE.c, cast(Table, Ticket.__table__)
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
    due, g = DUE.c, ChatGroup
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
        update(DUE)
        .where(due.told.is_(True), due.in_room.is_(True), due.level < 3)
        .values(room=func.coalesce(reported, first))
    )

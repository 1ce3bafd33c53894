"""Deadline sweeper: fires due SLA levels exactly once and writes one digest per person per sweep.

The database is the source of truth, and the work is set-based; no deadline row is written to tell
it. One statement finds the running deadlines with a level instant at or after the committed sweep
watermark (`sweep_watermark.swept_to`, range scans of one partial index a level) and up to now,
keeps those whose highest due level is above the highest one in the reminder log (one probe of its
primary key each), and copies them into a temporary table. Batches of it (ranges of deadline ids,
or the whole list when one batch holds it) then, one transaction each, are tallied in one grouped
read, insert their reminder-log rows with one `INSERT … SELECT` (primary key ticket, kind, cycle,
level: a level is never logged twice) and summarise the digests per person in SQL; no ticket row is
written (a ticket's escalation level is read from its log rows). Python only resolves who hears a
level (per grid, not per ticket) and renders the bounded digest text. The last batch moves the
watermark to this sweep's `now`, unless a clock was started or moved meanwhile at or before it
(`deadlines.rearm` bumps the watermark's version): then the next sweep reads from the old watermark
again. A crash before a batch commits re-fires that batch next sweep; after it commits, nothing of
it is redone. When the watermark is unknown, and once a day, the sweep is a full pass (no lower
bound) for safety.

Several instances: every batch locks the watermark row, so batches of two sweeps never interleave
inside a transaction, and a sweep that starts takes the row over (`holder`): an earlier sweep still
running stops at its next batch, so no two sweeps log from lists read apart. The coordinator lock
only avoids wasted work; correctness does not depend on it.

A deadline is told at one level per sweep, its highest due one: after an outage a deadline four
levels behind tells the street admin once, not the whole ladder; the levels it passed over are
recorded compactly in that log row (`skipped`). In normal running each level is due on its own.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models import failpoints
from gridbot.models.db import is_postgres
from gridbot.models.entities import (
    ChatGroup,
    Message,
    ReminderLog,
    SweepWatermark,
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
TEMP_BUFFERS = "128MB"  # the list of 300,000 deadlines takes about 30 MB
FULL_PASS_EVERY = timedelta(days=1)  # a pass with no lower bound: instants written around the lifecycle


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
    batch_size: int = 500_000,
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
        # one connection for the whole sweep: the list of due deadlines is a temporary table on it
        with cast(Engine, session_factory.kw["bind"]).connect() as conn:
            _local_buffers(conn)
            try:
                _run(conn, session_factory, state, batch_size, result, held, lock_ttl_s, after_batch)
            finally:
                try:  # a dead connection must not hide why the sweep failed
                    if conn.in_transaction():
                        conn.rollback()
                    conn.execute(text(f"DROP TABLE IF EXISTS {DUE.name}"))
                    conn.commit()
                except Exception:
                    logger.warning("sweep %s: scratch table not dropped", state.sweep_id, exc_info=True)
    logger.info(
        "sweep %s: %d deadlines, %d levels told (%d passed over), %d digests",
        state.sweep_id,
        result.examined,
        result.fired,
        result.passed_over,
        result.digests,
    )
    return result


def _local_buffers(conn: Connection) -> None:
    """Keep a large sweep's list in this connection's memory (PostgreSQL's default is 8 MB).

    Settable only before the session first touches a temporary table: a pooled connection that
    swept before keeps the value; one that used another size keeps that one.
    """
    if conn.dialect.name != "postgresql":
        return
    try:
        conn.execute(text(f"SET temp_buffers = '{TEMP_BUFFERS}'"))
        conn.commit()
    except DBAPIError:
        conn.rollback()


def _run(
    conn: Connection,
    session_factory: sessionmaker[Session],
    state: SweepState,
    batch_size: int,
    result: SweepResult,
    held: Any,
    lock_ttl_s: float,
    after_batch: Callable[[int], None] | None,
) -> None:
    mark: _Mark | None = None
    k = 0  # batches begun
    while True:
        with session_factory(bind=conn) as session, session.begin():
            if mark is None:
                mark = _start(session, state, batch_size)
            elif not _still_ours(session, state):
                logger.info("sweep %s: a later sweep took over; stopping", state.sweep_id)
                return
            bounds = (None, *mark.bounds, None)
            state.batch = (bounds[k], bounds[k + 1])
            n = _sweep_batch(session, state, result)
            k += 1
            last = k > len(mark.bounds)
            if last:
                _finish(session, state, mark)
        if n:
            failpoints.hit("sweep.enqueued")
            result.batches += 1
        if last:
            return
        if not held.extend(lock_ttl_s):
            logger.warning(
                "sweeper lock lost mid-sweep; the watermark row and the log's key keep it exactly-once"
            )
        if after_batch is not None:
            after_batch(result.batches)


@dataclass
class _Mark:
    version: int  # the watermark's version when this sweep read it
    full: bool  # no lower bound: a full pass
    bounds: list[int]  # the deadline id each batch but the last ends at (none: one batch)


def _watermark(session: Session) -> Table:
    table = cast(Table, SweepWatermark.__table__)
    ins = postgresql.insert if is_postgres(session) else sqlite.insert
    # the migration writes the row; a schema made another way gets it here
    session.execute(ins(table).values(id=1, version=0).on_conflict_do_nothing(index_elements=["id"]))
    return table


def _start(session: Session, state: SweepState, batch_size: int) -> _Mark:
    """Take the watermark row over and list the due deadlines not told yet into the scratch table."""
    w = _watermark(session).c
    conn = session.connection()
    _tune(session)
    # the row lock is taken before the deadlines are read: a clock moved by a transaction that
    # committed before it is seen; one that commits after it finds `sweeping_to` and bumps `version`
    swept_to, full_at, version = conn.execute(
        update(w.id.table)
        .where(w.id == 1)
        .values(sweeping_to=literal(state.now, UTCDateTime()), holder=state.sweep_id)
        .returning(w.swept_to, w.full_at, w.version)
    ).one()
    full = swept_to is None or full_at is None or state.now - full_at >= FULL_PASS_EVERY
    conn.execute(text(f"DROP TABLE IF EXISTS {DUE.name}"))  # a pooled connection may keep one
    DUE.create(conn)
    total = _collect(session, state, None if full else swept_to)
    bounds = []
    if total > batch_size:  # batches read ranges of deadline ids, batch_size rows each
        conn.execute(text(f"CREATE INDEX ix_{DUE.name}_deadline ON {DUE.name} (deadline_id)"))
        rn = func.row_number().over(order_by=DUE.c.deadline_id).label("rn")
        ranked = select(DUE.c.deadline_id, rn).subquery()
        ends = select(ranked.c.deadline_id).where(ranked.c.rn % batch_size == 0, ranked.c.rn < total)
        bounds = list(conn.execute(ends.order_by(ranked.c.rn)).scalars())
    if is_postgres(session):
        # autovacuum never sees temporary tables; a sample of 3,000 rows (not 30,000) is enough to
        # plan the batches' joins and groupings, and costs a tenth
        conn.execute(text("SET LOCAL default_statistics_target = 10"))
        conn.execute(text(f"ANALYZE {DUE.name}"))
    return _Mark(version=version, full=full, bounds=bounds)


def _still_ours(session: Session, state: SweepState) -> bool:
    """Lock the watermark row for this batch; False when a later sweep has taken it over."""
    w = cast(Table, SweepWatermark.__table__).c
    holder = session.execute(select(w.holder).where(w.id == 1).with_for_update()).scalar()
    if holder == state.sweep_id:
        _tune(session)
        return True
    return False


def _finish(session: Session, state: SweepState, mark: _Mark) -> None:
    """Move the watermark to `now`, unless a clock was started or moved since it was read."""
    w = cast(Table, SweepWatermark.__table__).c
    now = literal(state.now, UTCDateTime())
    same = w.version == mark.version
    session.connection().execute(
        update(w.id.table)
        .where(w.id == 1, w.holder == state.sweep_id)
        .values(
            swept_to=case((same, now), else_=w.swept_to),
            full_at=case((and_(same, literal(mark.full)), now), else_=w.full_at),
            sweeping_to=null(),
            holder=null(),
            version=w.version + 1,
        )
    )


def _tune(session: Session) -> None:
    if is_postgres(session):
        conn = session.connection()
        # these statements run once a batch over thousands of rows; compiling them (JIT) costs
        # more than it saves, and its estimate cannot know the scratch table is about to fill
        conn.execute(text("SET LOCAL jit = off"))
        # the scratch tables' sorts and hashes (a batch of thousands) in memory, not on disk
        conn.execute(text("SET LOCAL work_mem = '64MB'"))
        # A batch's commit need not wait for its WAL to reach disk: a server crash can only lose
        # whole recent batches (never part of one), and a lost batch is re-fired by the next sweep
        # like a rolled-back one (the watermark moves in the last batch's transaction). Nothing of
        # it can have been sent: the sender's claim commits synchronously after it, and that flush
        # carries the batch's WAL with it.
        conn.execute(text("SET LOCAL synchronous_commit = off"))


def _sweep_batch(session: Session, state: SweepState, result: SweepResult) -> int:
    """Tell the listed deadlines of `state.batch` (one transaction); returns how many."""
    conn = session.connection()
    tally = _tally(session, state)
    n = sum(t.rows for t in tally)
    if n == 0:
        return 0
    result.examined += n
    _repair(session, state, {t.action for t in tally})
    told = [t for t in tally if t.action == FIRE]
    if told:
        result.fired += sum(t.rows for t in told)
        result.passed_over += sum(t.passed_over for t in told)
        _insert_logs(session, state)
        if any(t.in_room and t.level < 3 for t in told):
            _address_rooms(session, state)
        conn.execute(text(f"DROP TABLE IF EXISTS {TO.name}"))  # a SQLite connection keeps it
        TO.create(conn)
        resolve_recipients(session, state, sorted({(t.level, t.grid_id, t.assignee_key) for t in told}))
        result.digests += write_digests(session, state)
        TO.drop(conn)
    return n


@dataclass(frozen=True)
class _Tally:
    """The batch's listed rows of one level, grid, assignee, action and addressing."""

    level: int
    grid_id: int
    assignee_key: int
    action: int
    in_room: bool
    rows: int
    passed_over: int  # lower levels those rows stand for


def _tally(session: Session, state: SweepState) -> list[_Tally]:
    """One grouped read of the batch: what the statements after it need to know, or to skip."""
    due = DUE.c
    keys = (due.level, due.grid_id, due.assignee_key, due.action, due.in_room)
    stmt = (
        select(*keys, func.count(), func.coalesce(func.sum(due.level - due.old_level - 1), 0))
        .where(*state.in_batch())
        .group_by(*keys)
    )
    return [_Tally(*row) for row in session.connection().execute(stmt)]


def _collect(session: Session, state: SweepState, since: datetime | None) -> int:
    """List the due deadlines not told yet (and any to stop or pause) into the scratch table; how many.

    `since`: the watermark; None for a full pass. A deadline is listed when one of its level
    instants lies in [since, now] and its highest due level is above the highest level logged for
    it (a level already told, or one below it, is never told again: a clock moved back after it
    fired stays quiet until a higher level falls due). The highest logged level is one probe of
    the log's key a deadline after a watermark; a full pass reads the log's levels grouped once.
    """
    d, t, now = TicketDeadline, Ticket, state.now
    log = cast(Table, ReminderLog.__table__).c
    top = case(
        (d.escalate2_at <= now, 4),
        (d.escalate1_at <= now, 3),
        (d.due_at <= now, 2),
        (d.warn_at <= now, 1),
        else_=0,
    )
    running = and_(d.met_at.is_(None), d.paused_at.is_(None), d.stopped_at.is_(None))
    key = (d.ticket_id, d.kind, d.cycle, d.due_at)
    if since is None:
        logged = (
            select(log.ticket_id, log.deadline_kind, log.cycle, func.max(log.level).label("level"))
            .group_by(log.ticket_id, log.deadline_kind, log.cycle)
            .subquery()
        )
        found = (
            select(
                d.id.label("deadline_id"),
                *key,
                top.label("level"),
                func.coalesce(logged.c.level, 0).label("old"),
            )
            .outerjoin(
                logged,
                and_(
                    logged.c.ticket_id == d.ticket_id,
                    logged.c.deadline_kind == d.kind,
                    logged.c.cycle == d.cycle,
                ),
            )
            .where(running, d.warn_at <= now)
            .subquery()
        )
    else:
        probe = (
            select(func.max(log.level))
            .where(log.ticket_id == d.ticket_id, log.deadline_kind == d.kind, log.cycle == d.cycle)
            .scalar_subquery()
        )
        window = or_(*(c.between(since, now) for c in (d.warn_at, d.due_at, d.escalate1_at, d.escalate2_at)))
        # OFFSET 0: the probe runs once a row, not again where the outer query filters on it
        found = (
            select(d.id.label("deadline_id"), *key, top.label("level"), func.coalesce(probe, 0).label("old"))
            .where(running, window)
            .offset(0)
            .subquery()
        )
    action = case(
        (t.status == TicketStatus.SUSPENDED, PAUSE),  # the lifecycle should have paused it
        (t.status.not_in(OPEN_STATUSES), STOP),  # closed without stop_all: never fire again
        else_=FIRE,
    )
    stmt = (
        select(
            found.c.deadline_id,
            found.c.ticket_id,
            found.c.kind,
            found.c.cycle,
            t.grid_id,
            func.coalesce(t.assignee_id, 0),
            action,
            found.c.old,
            found.c.level,
            found.c.due_at,
            t.needs_review.is_(False),  # anything still 待确认 goes to the staff directly
            t.priority == Priority.URGENT,
            action == FIRE,
        )
        .join(t, t.id == found.c.ticket_id)
        .where(or_(action != FIRE, found.c.level > found.c.old))
    )
    # not numbered: a window over 300,000 rows costs 0.2 s; batches are ranges of deadline ids
    cols = [c.name for c in DUE.c if c.name != "room"]
    listed = insert(DUE).from_select(cols, stmt).execution_options(preserve_rowcount=True)
    return int(session.connection().execute(listed).rowcount)  # no count(*) of the list after it


def _repair(session: Session, state: SweepState, actions: set[int]) -> None:
    """Pause the clocks of suspended tickets and stop those of closed ones (the lifecycle's job)."""
    d, due = cast(Table, TicketDeadline.__table__), DUE.c
    for action, col in ((PAUSE, "paused_at"), (STOP, "stopped_at")):
        if action not in actions:
            continue
        ids = select(due.deadline_id).where(due.action == action, *state.in_batch())
        if is_postgres(session):
            # never wait for a deadline row a user's transaction holds: it may be waiting for the
            # watermark row this batch holds (deadlines.rearm); that clock is repaired next sweep
            ids = select(d.c.id).where(d.c.id.in_(ids)).with_for_update(skip_locked=True)
        session.connection().execute(update(d).where(d.c.id.in_(ids)).values({col: state.now}))


def _insert_logs(session: Session, state: SweepState) -> None:
    """Log the level each listed deadline of the batch tells.

    A plain insert: the list holds only levels above the highest logged when it was read, and every
    batch since, of this sweep or another, ran under the watermark row's lock and the takeover
    check, so nothing can have logged the same key meanwhile; should anything ever try, the
    primary key fails the batch rather than telling twice. A plain insert writes about half the WAL
    of ON CONFLICT's speculative insertion.
    """
    due = DUE.c
    rows = select(
        due.ticket_id,
        due.kind,
        due.cycle,
        due.level,
        due.level - due.old_level - 1,
        case((due.level == 1, func.nullif(due.assignee_key, 0)), else_=null()),
        literal(state.now, UTCDateTime()),
    ).where(state.told())
    cols = ["ticket_id", "deadline_kind", "cycle", "level", "skipped", "recipient_id", "fired_at"]
    session.connection().execute(insert(cast(Table, ReminderLog.__table__)).from_select(cols, rows))


def _address_rooms(session: Session, state: SweepState) -> None:
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
        .where(state.told(), due.in_room.is_(True), due.level < 3)
        .values(room=func.coalesce(reported, first))
    )

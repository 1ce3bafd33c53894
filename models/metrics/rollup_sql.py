"""The grid rows of the rollups in one pass of SQL each (no query per day, no rows through Python).

Every count of models.metrics is "as of the end of a local day" and, per ticket, monotone in that
day: a milestone recorded before the end of day d is recorded before the end of every later day. So
instead of re-running a query per day:

* day stocks become intervals of days: a ticket is overdue from the day its resolution deadline
  passed (and it existed) until the day it was met, paused, resolved or rejected; a group's member
  snapshot counts from the day it was taken until the day of the group's next snapshot. The
  intervals are joined with the days of the refresh (a scratch table) and counted per grid and day;
* cohort increments become one "flip day" per ticket and count: the local day its rule first holds
  (the ticket's creation day at the earliest), so a cohort row (grid, created day, done day) counts
  the tickets whose rule flipped on the done day.

Both are INSERT … SELECT on SQLite and PostgreSQL alike; the comparison test runs them against the
per-day implementation they replaced (tests/rollups_reference.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    Integer,
    MetaData,
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
    true,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from gridbot.models.entities import (
    ChatGroup,
    Grid,
    MemberSnapshot,
    Message,
    Rating,
    Ticket,
    TicketDeadline,
    TicketEvent,
)
from gridbot.models.entities.rollup import COHORT_COUNTS, DAY_FLOWS, DAY_STOCKS, RollupCohort, RollupDay
from gridbot.models.enums import DeadlineKind, TicketStatus
from gridbot.models.metrics import queries as q
from gridbot.models.metrics import rules
from gridbot.models.metrics.period import Period, Scope, local_date

GRID = "grid"
DAY_COLUMNS = DAY_FLOWS + DAY_STOCKS
_scratch = MetaData()
_DAYS = Table("rollup_span", _scratch, Column("day", Date, primary_key=True), prefixes=["TEMPORARY"])
_RESOLVED = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


# transaction-local settings for the backfill on PostgreSQL. JIT compiling a city's statements took
# 4-7 s each. work_mem stays as configured: 256MB kept the grid-day hash aggregate (418 MB) and the
# sorts in memory, yet made a city backfill slower (77-85 s against 43 s at 4MB, load average 4-5).
SETTINGS = {"jit": "off"}


@contextmanager
def tuned(session: Session) -> Iterator[None]:
    """Run the statements inside with SETTINGS on PostgreSQL, then restore the transaction's own."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        yield
        return
    before = {k: conn.scalar(text("SELECT current_setting(:k)"), {"k": k}) for k in SETTINGS}
    for k, v in SETTINGS.items():
        conn.execute(text("SELECT set_config(:k, :v, true)"), {"k": k, "v": v})  # SET LOCAL
    yield
    for k, v in before.items():
        conn.execute(text("SELECT set_config(:k, :v, true)"), {"k": k, "v": v})


# a refresh that wrote this many grid rows re-analyses the rollup tables before summing the regions
ANALYZE_AFTER = 50_000


def analyze_if_many(session: Session, written: int, *tables: Table) -> None:
    """ANALYZE the tables on PostgreSQL when a refresh wrote many rows into them.

    The region sums read back the grid rows just written; planned on the statistics of an empty or
    much smaller table they walk the primary key row by row (a city: 15 s instead of 2 s).
    ANALYZE inside the transaction sees its own new rows.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql" and written >= ANALYZE_AFTER:
        conn.execute(text(f"ANALYZE {', '.join(t.name for t in tables)}"))


def _later(a: Any, b: Any) -> ColumnElement[Any]:
    """The later of two dates (NULL when either is NULL); portable, unlike GREATEST."""
    return case((or_(a.is_(None), b.is_(None)), null()), (a > b, a), else_=b)


def _earlier(a: Any, b: Any) -> ColumnElement[Any]:
    """The earlier of two dates, a NULL standing for "never"."""
    return case((a.is_(None), b), (b.is_(None), a), (a < b, a), else_=b)


def _span(session: Session, first: date, last: date) -> Table:
    """The scratch table of the local days [first, last]."""
    conn = session.connection()
    conn.execute(text(f"DROP TABLE IF EXISTS {_DAYS.name}"))
    _DAYS.create(conn)
    n = (last - first).days + 1
    conn.execute(insert(_DAYS), [{"day": first + timedelta(days=i)} for i in range(n)])
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {_DAYS.name}"))  # autovacuum never sees temporary tables
    return _DAYS


def _row(grid: Any, day: Any, **values: Any) -> list[Any]:
    # integers, so that PostgreSQL sums them in int8 (a bigint's sum is numeric: slow and wide)
    return [grid.label("grid_id"), day.label("day")] + [
        sql_cast(values[c], Integer).label(c) if c in values else literal(0).label(c) for c in DAY_COLUMNS
    ]


def insert_grid_days(session: Session, scope: Scope, first: date, last: date) -> int:
    """Write the grid rows of rollup_days for [first, last]; returns how many."""
    days = _span(session, first, last).c.day
    period = Period.local_days(first, last)
    mday = local_date(Message.sent_at).label("day")
    m = q.message_counts(scope, period).add_columns(mday).group_by(mday).subquery()
    rday = local_date(Rating.created_at).label("day")
    r = q.rating_counts(scope, period).add_columns(rday).group_by(rday).subquery()
    branches = [
        select(*_row(m.c.grid_id, m.c.day, **{c: m.c[c] for c in DAY_FLOWS[:3]})),
        select(*_row(r.c.grid_id, r.c.day, **{c: r.c[c] for c in DAY_FLOWS[3:]})),
        _overdue(scope, first, last, days),
        _members(scope, period, first, days),
        select(*_row(Grid.id, days, households=Grid.households))
        .select_from(Grid)
        .join(_DAYS, true())
        .where(scope.grid_condition(), Grid.households != 0),
    ]
    u = union_all(*branches).subquery()  # every branch keeps to the scope's grids
    sums = [func.sum(u.c[c]) for c in DAY_COLUMNS]
    stmt = (
        select(literal(GRID), u.c.grid_id, u.c.day, *sums)
        .group_by(u.c.grid_id, u.c.day)
        .having(or_(*(s != 0 for s in sums)))
    )
    table = cast(Table, RollupDay.__table__)
    return _insert(session, table, ["level", "node_id", "day", *DAY_COLUMNS], stmt)


def _overdue(scope: Scope, first: date, last: date, days: Any) -> Any:
    """Per grid and day: tickets overdue at the day's end (`rules.overdue_at`), as day intervals."""
    t, d = Ticket, TicketDeadline
    done = func.coalesce(t.resolved_at, t.closed_at)
    # the instants that end the overdue spell, "X >= end of day" ⇔ "local date of X > day"
    stops = [
        (d.met_at.is_(None), local_date(d.met_at)),
        (d.paused_at.is_(None), local_date(d.paused_at)),
        (t.status != TicketStatus.REJECTED, local_date(t.rejected_at)),
        (or_(t.status.not_in(_RESOLVED), done.is_(None)), local_date(done)),
    ]
    begins = _later(_later(local_date(t.created_at), local_date(d.due_at)), literal(first, Date))
    spells = (
        select(t.id.label("ticket_id"), t.grid_id, begins.label("begins"))
        .add_columns(
            *(case((open_, null()), else_=at).label(f"stop{i}") for i, (open_, at) in enumerate(stops))
        )
        .join(d, and_(d.ticket_id == t.id, d.kind == DeadlineKind.RESOLUTION))
        .where(scope.contains(t.grid_id), t.status != TicketStatus.MERGED)
        # a rejected ticket without a rejection time counts as rejected long ago: never overdue
        .where(or_(t.status != TicketStatus.REJECTED, t.rejected_at.is_not(None)))
        .subquery()
    )
    s = spells.c
    open_on = [or_(s[f"stop{i}"].is_(None), s[f"stop{i}"] > days) for i in range(len(stops))]
    # the cheap pre-filter: the spell is open on its first day in the span (else it never is)
    still_open = [or_(s[f"stop{i}"].is_(None), s[f"stop{i}"] > s.begins) for i in range(len(stops))]
    inner = (
        select(s.grid_id, days.label("day"), func.count(s.ticket_id.distinct()).label("overdue"))
        .select_from(_DAYS)
        .join(spells, and_(days >= s.begins, *open_on))
        .where(s.begins <= literal(last, Date), *still_open)
        .group_by(s.grid_id, days)
        .subquery()
    )
    return select(*_row(inner.c.grid_id, inner.c.day, overdue=inner.c.overdue))


def _members(scope: Scope, period: Period, first: date, days: Any) -> Any:
    """Per grid and day: the sum of its groups' latest member snapshot taken before the day's end."""
    nxt = func.lead(MemberSnapshot.taken_at).over(
        partition_by=MemberSnapshot.group_id, order_by=(MemberSnapshot.taken_at, MemberSnapshot.id)
    )
    snaps = (
        select(
            MemberSnapshot.group_id,
            MemberSnapshot.member_count,
            local_date(MemberSnapshot.taken_at).label("since"),
            nxt.label("next_at"),
        )
        .where(MemberSnapshot.taken_at < period.end)
        .subquery()
    )
    until = local_date(snaps.c.next_at)
    valid = and_(days >= snaps.c.since, or_(snaps.c.next_at.is_(None), until > days))
    inner = (
        select(ChatGroup.grid_id, days.label("day"), func.sum(snaps.c.member_count).label("members"))
        .select_from(snaps)
        .join(ChatGroup, ChatGroup.id == snaps.c.group_id)
        .join(_DAYS, valid)
        .where(scope.contains(ChatGroup.grid_id))
        .where(or_(snaps.c.next_at.is_(None), until > literal(first, Date)))
        .group_by(ChatGroup.grid_id, days)
        .subquery()
    )
    return select(*_row(inner.c.grid_id, inner.c.day, members=inner.c.members))


def insert_cohorts(session: Session, scope: Scope, first: date, last: date, through: date) -> int:
    """Write the grid rows of rollup_cohorts for tickets created in [first, last], done up to `through`."""
    t, d = Ticket, TicketDeadline
    fr = d.__table__.alias("fr")  # the first cycle's first-response deadline
    res = d.__table__.alias("res")  # the current cycle's resolution deadline
    ev = TicketEvent

    def first_event(actions: tuple[str, ...], name: str) -> Any:
        return (
            select(ev.ticket_id, func.min(ev.at).label("at"))
            .where(ev.action.in_(actions))
            .group_by(ev.ticket_id)
            .subquery(name)
        )

    reopen, urge = first_event((rules.REOPEN_ACTION,), "reopen"), first_event(rules.URGE_ACTIONS, "urge")
    cd = local_date(t.created_at)
    got = t.status.not_in(rules.NOT_RECEIVED)
    done = func.coalesce(t.resolved_at, t.closed_at)
    resolved = case((and_(got, t.status.in_(_RESOLVED), done.is_not(None)), local_date(done)))
    fr_in_time = and_(fr.c.met_at.is_not(None), fr.c.met_at <= fr.c.due_at)
    res_in_time = and_(res.c.met_at.is_not(None), res.c.met_at <= res.c.due_at)
    responded = case((and_(got, t.first_response_at.is_not(None)), local_date(t.first_response_at)))
    reopened = case((got, local_date(reopen.c.at)))
    not_pending = case((fr.c.id.is_(None), cd), else_=local_date(fr.c.due_at))
    flips: dict[str, Any] = {
        "received": case((got, cd)),
        "responded": responded,
        "responded_on_time": case((and_(got, fr_in_time), local_date(fr.c.met_at))),
        "resolved": resolved,
        "resolved_on_time": case((res_in_time, _later(resolved, local_date(res.c.met_at)))),
        "resolved_once": _earlier(resolved, reopened),
        "reopened": reopened,
        "escalated": case((and_(got, rules.escalated()), cd)),
        "rejected": case((t.status == TicketStatus.REJECTED, cd)),
        "merged": case((t.status == TicketStatus.MERGED, cd)),
        "response_due": case((got, _earlier(responded, not_pending))),
        "accepted_on_time": case(
            (and_(got, t.accepted_at.is_not(None), t.accepted_at <= fr.c.due_at), local_date(t.accepted_at))
        ),
        "patrol": case((and_(got, rules.patrol()), cd)),
        "urged": case((got, local_date(urge.c.at))),
    }
    per_ticket = (
        select(t.grid_id, cd.label("cd"), *(v.label(k) for k, v in flips.items()))
        .outerjoin(
            fr, and_(fr.c.ticket_id == t.id, fr.c.kind == DeadlineKind.FIRST_RESPONSE, fr.c.cycle == 0)
        )
        .outerjoin(
            res, and_(res.c.ticket_id == t.id, res.c.kind == DeadlineKind.RESOLUTION, res.c.cycle == t.cycle)
        )
        .outerjoin(reopen, reopen.c.ticket_id == t.id)
        .outerjoin(urge, urge.c.ticket_id == t.id)
        .where(Period.local_days(first, last).contains(t.created_at), scope.contains(t.grid_id))
        .cte("flips")
    )
    c = per_ticket.c
    # one row per ticket and count that holds by `through`, on the day it first held
    landed = union_all(
        *(
            select(c.grid_id, c.cd, _later(c[k], c.cd).label("done"), literal(i).label("k")).where(
                c[k].is_not(None), _later(c[k], c.cd) <= literal(through, Date)
            )
            for i, k in enumerate(COHORT_COUNTS)
        )
    ).subquery()
    sums = [func.sum(case((landed.c.k == i, 1), else_=0)) for i in range(len(COHORT_COUNTS))]
    key = (landed.c.grid_id, landed.c.cd, landed.c.done)
    stmt = select(literal(GRID), *key, *sums).group_by(*key)
    table = cast(Table, RollupCohort.__table__)
    return _insert(session, table, ["level", "node_id", "created_day", "done_day", *COHORT_COUNTS], stmt)


def _insert(session: Session, table: Table, columns: list[str], stmt: Any) -> int:
    """INSERT … SELECT; returns how many rows it wrote (the caller deleted the old ones first)."""
    conn = session.connection()
    written = conn.execute(
        insert(table).from_select(columns, stmt), execution_options={"preserve_rowcount": True}
    ).rowcount
    if written < 0 and conn.dialect.name == "sqlite":  # Python's sqlite3 tells none for WITH … INSERT
        written = int(conn.scalar(select(func.changes())) or 0)
    return written

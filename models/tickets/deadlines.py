"""Deadline clock operations the ticket lifecycle calls: start, meet, pause, resume, stop, reopen.

Services: they take a session and never commit. Ladder levels: 1 warn_at, 2 due_at,
3 escalate1_at, 4 escalate2_at. A clock runs while it is neither met, paused nor stopped; what the
sweeper has told is in the reminder log. Whoever starts a clock or moves its instants calls
`rearm`, so the sweep (which reads only instants past its watermark) cannot pass them by.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, Update, case, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from gridbot.models.db import attach, is_postgres
from gridbot.models.entities import ReminderLog, SweepWatermark, Ticket, TicketDeadline
from gridbot.models.entities.ticket import LEVEL_COLUMNS
from gridbot.models.enums import DeadlineKind
from gridbot.models.tickets.sla import LEVELS, Basis, DeadlineSpec, SLAPolicy

# far beyond any instant a sweep under way can be sweeping to (its `now`, against this one's clock)
REARM_MARGIN = timedelta(minutes=10)


def start_clocks(session: Session, ticket: Ticket, now: datetime, policy: SLAPolicy) -> list[TicketDeadline]:
    """Create the deadlines of the ticket's current cycle from the policy (existing ones are kept)."""
    rule = policy.rule_for(ticket.kind, ticket.category, ticket.priority)
    return _create(session, ticket, now, policy, dict(rule.deadlines))


def start_first(session: Session, ticket: Ticket, now: datetime, policy: SLAPolicy) -> list[TicketDeadline]:
    """A new ticket's clocks from the policy (the ticket flushed, holding none yet), set as its
    `deadlines` without a read back. One multi-row INSERT, which on PostgreSQL also carries `rearm`'s
    watermark check when that needs no lock (a data-modifying WITH); otherwise `rearm` as usual."""
    rule = policy.rule_for(ticket.kind, ticket.category, ticket.priority)
    rows: list[dict[str, Any]] = []
    for kind, spec in rule.deadlines.items():
        s = policy.schedule(spec, now)
        times = {"warn_at": s.warn_at, "due_at": s.due_at}
        times |= {"escalate1_at": s.escalate1_at, "escalate2_at": s.escalate2_at}
        rows.append({"ticket_id": ticket.id, "kind": kind, "cycle": ticket.cycle, "started_at": now, **times})
    clocks: list[TicketDeadline] = []
    if rows:
        table = cast(Table, TicketDeadline.__table__)
        stmt = insert(table).values(rows).returning(table.c.id, table.c.kind)
        at = min(min(r["warn_at"], r["due_at"], r["escalate1_at"], r["escalate2_at"]) for r in rows)
        folded = at > now + REARM_MARGIN and is_postgres(session)
        if folded:
            stmt = stmt.add_cte(_lower_if_behind(at).cte("rearmed"))
        ids = {kind: i for i, kind in session.connection().execute(stmt)}
        unset = dict.fromkeys(table.c.keys())
        for r in rows:
            values = unset | r | {"id": ids[r["kind"]], "started_at": now.astimezone(UTC)}
            values |= {k: r[k].astimezone(UTC) for k in LEVEL_COLUMNS}  # as loading sets them
            clocks.append(attach(session, TicketDeadline, values))
        if not folded:
            rearm(session, clocks, new_at=now)
    set_committed_value(ticket, "deadlines", clocks)
    return clocks


def _clock(
    ticket: Ticket, kind: DeadlineKind, cycle: int, now: datetime, policy: SLAPolicy, spec: DeadlineSpec
) -> TicketDeadline:
    s = policy.schedule(spec, now)
    return TicketDeadline(
        ticket_id=ticket.id,
        kind=kind,
        cycle=cycle,
        started_at=now,
        due_at=s.due_at,
        warn_at=s.warn_at,
        escalate1_at=s.escalate1_at,
        escalate2_at=s.escalate2_at,
    )


def meet(session: Session, ticket: Ticket, kind: DeadlineKind, now: datetime) -> None:
    """Mark the current cycle's deadline of `kind` met; no-op if it is absent or already met.

    One UPDATE, the deadlines not read first (接单, 回复 and 办结 each meet one to three); the
    copies the session holds are set to match (`synchronize_session`), as the flush would have."""
    session.execute(
        update(TicketDeadline)
        .where(
            TicketDeadline.ticket_id == ticket.id,
            TicketDeadline.cycle == ticket.cycle,
            TicketDeadline.kind == kind,
            TicketDeadline.met_at.is_(None),
        )
        .values(met_at=now)
        .execution_options(synchronize_session="evaluate")
    )


def pause(session: Session, ticket: Ticket, now: datetime) -> None:
    """Suspension (挂起): stop the open clocks of the current cycle; nothing fires while paused."""
    for d in _current(session, ticket):
        if d.met_at is None and d.paused_at is None:
            d.paused_at = now


def resume(session: Session, ticket: Ticket, now: datetime, policy: SLAPolicy) -> None:
    """End a suspension: shift every instant by the paused span in the deadline's time basis."""
    rule = policy.rule_for(ticket.kind, ticket.category, ticket.priority)
    resumed = []
    for d in _current(session, ticket):
        if d.met_at is not None or d.paused_at is None:
            continue
        spec = rule.deadlines.get(d.kind)
        # A deadline the current rule no longer has keeps counting calendar time.
        basis = spec.basis if spec else Basis.CALENDAR
        span = policy.elapsed(d.paused_at, now, basis)
        if span > timedelta():
            d.warn_at = policy.advance(d.warn_at, span, basis)
            d.due_at = policy.advance(d.due_at, span, basis)
            d.escalate1_at = policy.advance(d.escalate1_at, span, basis)
            d.escalate2_at = policy.advance(d.escalate2_at, span, basis)
        d.paused_at = None
        resumed.append(d)
    rearm(session, resumed)


def stop_all(session: Session, ticket: Ticket, now: datetime) -> None:
    """The ticket is closed, merged or rejected: none of its clocks fires again."""
    for d in session.scalars(select(TicketDeadline).where(TicketDeadline.ticket_id == ticket.id)):
        if d.stopped_at is None:
            d.stopped_at = now


def restart_for_reopen(
    session: Session, ticket: Ticket, now: datetime, policy: SLAPolicy
) -> list[TicketDeadline]:
    """重办: fresh resolution (and feedback) clocks for the new cycle the lifecycle has bumped to."""
    for d in session.scalars(
        select(TicketDeadline).where(
            TicketDeadline.ticket_id == ticket.id, TicketDeadline.cycle < ticket.cycle
        )
    ):
        if d.stopped_at is None:
            d.stopped_at = now
    rule = policy.rule_for(ticket.kind, ticket.category, ticket.priority)
    wanted: dict[DeadlineKind, DeadlineSpec] = {
        k: s for k, s in rule.deadlines.items() if k in (DeadlineKind.FEEDBACK, DeadlineKind.RESOLUTION)
    }
    return _create(session, ticket, now, policy, wanted)


def running(d: TicketDeadline) -> bool:
    """Whether the clock's levels may still fire (neither met, paused nor stopped)."""
    return d.met_at is None and d.paused_at is None and d.stopped_at is None


def rearm(session: Session, clocks: list[TicketDeadline], *, new_at: datetime | None = None) -> None:
    """Clocks started or moved: make sure the sweep will see their levels not told yet.

    The sweep reads only instants at or after its watermark (`swept_to`). When the first untold
    instant of a running clock lies before it, or at or before the instant a sweep under way is
    sweeping to (`sweeping_to`), the watermark is lowered to it and its version bumped, in this
    transaction: a sweep that listed the due deadlines earlier then does not move the watermark
    past the instant. The watermark row is read FOR SHARE (PostgreSQL): a sweep takes it FOR UPDATE
    before it lists, so it lists after this transaction commits, or this one reads the sweep's
    `sweeping_to` once the sweep's batch commits. Clocks created (`new_at`: their start) whose first
    level is more than REARM_MARGIN later need no lock (no sweep under way can be sweeping to it):
    one conditional UPDATE, which writes only for a clock started behind the watermark.
    """
    live = [d for d in clocks if running(d)]
    if not live:
        return
    log = ReminderLog
    (ticket_id,) = {d.ticket_id for d in live}  # the clocks of one ticket
    told = (
        {}
        if new_at is not None
        else {
            (kind, cycle): level
            for kind, cycle, level in session.execute(
                select(log.deadline_kind, log.cycle, func.max(log.level))
                .where(log.ticket_id == ticket_id)
                .group_by(log.deadline_kind, log.cycle)
            )
        }
    )
    firsts = []
    for d in live:
        level = told.get((d.kind, d.cycle), 0)
        times = (d.warn_at, d.due_at, d.escalate1_at, d.escalate2_at)
        if level < len(LEVELS):
            firsts.append(min(times[level:]))
    if not firsts:
        return
    at, w = min(firsts), cast(Table, SweepWatermark.__table__).c
    if new_at is not None and at > new_at + REARM_MARGIN:
        # one statement, no lock unless it matches: a clock started in the past, behind the watermark
        session.execute(_lower_if_behind(at))
        return
    row = session.execute(
        select(w.swept_to, w.sweeping_to).where(w.id == 1).with_for_update(read=True)
    ).one_or_none()
    if row is not None and ((row[0] is not None and row[0] > at) or (row[1] is not None and row[1] >= at)):
        session.execute(_lower(at).where(w.id == 1))


def _lower(at: datetime) -> Update:
    """Lower the watermark to `at` if it lies after it, and count a move (`version`)."""
    table = cast(Table, SweepWatermark.__table__)
    w = table.c
    return update(table).values(swept_to=case((w.swept_to > at, at), else_=w.swept_to), version=w.version + 1)


def _lower_if_behind(at: datetime) -> Update:
    """`_lower`, only where the watermark or a sweep under way is past `at` (no lock otherwise)."""
    w = cast(Table, SweepWatermark.__table__).c
    return _lower(at).where(w.id == 1, or_(w.swept_to > at, w.sweeping_to >= at))


def _create(
    session: Session,
    ticket: Ticket,
    now: datetime,
    policy: SLAPolicy,
    specs: dict[DeadlineKind, DeadlineSpec],
) -> list[TicketDeadline]:
    if ticket.id is None:
        session.flush()
    existing = {d.kind: d for d in _current(session, ticket)}
    out: list[TicketDeadline] = []
    new: list[TicketDeadline] = []
    for kind, spec in specs.items():
        if kind in existing:
            out.append(existing[kind])
            continue
        d = _clock(ticket, kind, ticket.cycle, now, policy, spec)
        session.add(d)
        out.append(d)
        new.append(d)
    session.flush()
    rearm(session, new, new_at=now)
    return out


def _current(session: Session, ticket: Ticket) -> list[TicketDeadline]:
    return list(
        session.scalars(
            select(TicketDeadline)
            .where(TicketDeadline.ticket_id == ticket.id, TicketDeadline.cycle == ticket.cycle)
            .order_by(TicketDeadline.id)
        )
    )


def reschedule(
    session: Session, ticket: Ticket, now: datetime, policy: SLAPolicy, start: datetime
) -> list[TicketDeadline]:
    """改级 / 改类: recompute the open clocks of the current cycle under the ticket's rule now.

    Unmet clocks get the new rule's instants counted from `start`; a clock the rule no longer has
    stops; one it newly has starts. Levels already fired stay fired (never sent twice).
    """
    rule = policy.rule_for(ticket.kind, ticket.category, ticket.priority)
    current = {d.kind: d for d in _current(session, ticket)}
    moved = []
    for kind, d in current.items():
        if d.met_at is not None:
            continue
        spec = rule.deadlines.get(kind)
        if spec is None:
            d.stopped_at = d.stopped_at or now
            continue
        s = policy.schedule(spec, start)
        d.started_at, d.warn_at, d.due_at = start, s.warn_at, s.due_at
        d.escalate1_at, d.escalate2_at = s.escalate1_at, s.escalate2_at
        if d.due_at > now:
            d.breached_at = None
        moved.append(d)
    rearm(session, moved)
    missing = {k: s for k, s in rule.deadlines.items() if k not in current}
    return _create(session, ticket, start, policy, missing) if missing else []


Snapshot = dict[str, list[str | int | None]]


def snapshot(session: Session, ticket: Ticket) -> Snapshot:
    """The current cycle's clocks as JSON (kept in a merge event, so 撤销合并 can restore them)."""
    out: Snapshot = {}
    for d in _current(session, ticket):
        times = (d.started_at, d.warn_at, d.due_at, d.escalate1_at, d.escalate2_at)
        out[d.kind.value] = [t.isoformat() if t else None for t in times]
    return out


def restore(session: Session, ticket: Ticket, saved: Snapshot) -> None:
    """Put back the instants `snapshot` recorded (clocks met meanwhile stay met)."""
    moved = []
    for d in _current(session, ticket):
        row = saved.get(d.kind.value)
        if row is None or d.met_at is not None:
            continue
        # the first five: older snapshots also kept the next firing instant, now derived
        started, warn, due, e1, e2 = (datetime.fromisoformat(str(v)) if v else None for v in row[:5])
        assert started and warn and due and e1 and e2
        d.started_at, d.warn_at, d.due_at, d.escalate1_at, d.escalate2_at = started, warn, due, e1, e2
        moved.append(d)
    rearm(session, moved)


def take_strictest(session: Session, target: Ticket, source: Ticket) -> bool:
    """合并: each open clock of `target` takes `source`'s instants when those are earlier."""
    theirs = {d.kind: d for d in _current(session, source) if d.met_at is None}
    moved = []
    for d in _current(session, target):
        other = theirs.get(d.kind)
        if d.met_at is not None or other is None or other.due_at >= d.due_at:
            continue
        d.started_at, d.warn_at, d.due_at = other.started_at, other.warn_at, other.due_at
        d.escalate1_at, d.escalate2_at = other.escalate1_at, other.escalate2_at
        moved.append(d)
    rearm(session, moved)
    return bool(moved)


def reopen_clocks(session: Session, ticket: Ticket) -> None:
    """撤销合并: the un-merged ticket's unmet clocks of the current cycle run again."""
    again = []
    for d in _current(session, ticket):
        if d.met_at is None and d.paused_at is None:
            d.stopped_at = None
            again.append(d)
    rearm(session, again)

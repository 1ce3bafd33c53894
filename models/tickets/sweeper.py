"""Deadline sweeper: fires due SLA levels exactly once and writes one digest per person per sweep.

The database is the source of truth. Each batch, in one transaction: lock due deadline rows (SKIP
LOCKED on PostgreSQL), insert ReminderLog rows with ON CONFLICT DO NOTHING (UNIQUE ticket, kind,
cycle, level: a second sweeper can never fire a level twice), advance the deadlines and write or
extend the recipients' digests in the outbox. A crash before a batch commits re-fires that batch
next sweep; after it commits, nothing of it is redone. The coordinator lock only avoids wasted
work; correctness does not depend on it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models import failpoints
from gridbot.models.db import is_postgres
from gridbot.models.entities import ChatGroup, Grid, Outbox, Person, ReminderLog, Ticket, TicketDeadline
from gridbot.models.enums import OPEN_STATUSES, DeadlineKind, OutboxKind, OutboxStatus, Role, TicketStatus
from gridbot.models.messaging.coordination import Coordinator
from gridbot.models.messaging.outbox import enqueue
from gridbot.models.org.directory import grid_workers, region_admins
from gridbot.models.tickets import deadlines
from gridbot.models.tickets.sla import Schedule, SLAPolicy

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
_KIND_LABEL = {
    DeadlineKind.FIRST_RESPONSE: "首次响应",
    DeadlineKind.FEEDBACK: "反馈",
    DeadlineKind.RESOLUTION: "办结",
}
_LEVEL_TAG = {3: "（社区督办）", 4: "（街道督办）"}
_MAX_LINES = 20  # a digest lists this many items, then "等共N项"


@dataclass(frozen=True)
class DigestItem:
    """One line of a digest: a ticket's deadline at a ladder level."""

    ticket_id: int
    category: str
    kind: DeadlineKind
    level: int
    left: timedelta  # time to the due instant; negative once overdue
    room: str | None


@dataclass
class SweepResult:
    """What one sweep did."""

    examined: int = 0  # deadline rows read
    fired: int = 0  # ReminderLog rows this sweep inserted
    digests: int = 0  # outbox rows this sweep created
    batches: int = 0
    skipped: bool = False  # another instance held the sweeper lock


class Digest:
    """One person's digest for one sweep, built batch by batch; its text stays bounded at any volume."""

    _HEADS = {
        "soon": "【工单提醒】您有{n}张工单即将超时：",
        "own_late": "【工单提醒】您有{n}张工单已超时，请尽快办理：",
        "late": "【超时督办】{n}张工单已超时，请督促办理：",
    }

    def __init__(self) -> None:
        self.tickets: dict[str, set[int]] = {k: set() for k in self._HEADS}
        self.lines: dict[str, list[str]] = {k: [] for k in self._HEADS}
        self.counts: dict[str, int] = dict.fromkeys(self._HEADS, 0)
        self.rooms: set[str | None] = set()
        self.ticket_ids: set[int] = set()

    def add(self, items: list[DigestItem]) -> None:
        """Add one batch's items (a deadline's levels all arrive in the same batch)."""
        best: dict[tuple[int, DeadlineKind], DigestItem] = {}
        for it in items:  # one line per ticket deadline: the highest level this person hears of
            key = (it.ticket_id, it.kind)
            if key not in best or best[key].level < it.level:
                best[key] = it
        for it in sorted(best.values(), key=lambda i: (i.left, i.ticket_id)):
            sec = "late" if it.level >= 2 else "soon" if it.left > timedelta() else "own_late"
            self.tickets[sec].add(it.ticket_id)
            self.counts[sec] += 1
            if len(self.lines[sec]) < _MAX_LINES:
                when = f"剩余{_fmt(it.left)}" if it.left > timedelta() else f"超时{_fmt(-it.left)}"
                tag = _LEVEL_TAG.get(it.level, "")
                self.lines[sec].append(f"#{it.ticket_id} {it.category} {_KIND_LABEL[it.kind]} {when}{tag}")
            self.rooms.add(it.room)
            if len(self.ticket_ids) < 2:
                self.ticket_ids.add(it.ticket_id)

    def render(self) -> tuple[str, OutboxKind, str | None]:
        """The Chinese text, the outbox kind, and the room (None when the items span rooms or none)."""
        parts = []
        for sec, head in self._HEADS.items():
            if self.counts[sec]:
                more = f"…等共{self.counts[sec]}项" if self.counts[sec] > len(self.lines[sec]) else ""
                parts.append(head.format(n=len(self.tickets[sec])) + "；".join(self.lines[sec]) + more)
        kind = OutboxKind.ESCALATION if self.counts["late"] else OutboxKind.REMINDER
        room = next(iter(self.rooms)) if len(self.rooms) == 1 else None
        return "\n".join(parts), kind, room


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
    rooms: dict[int, str | None] = field(default_factory=dict)
    after: tuple[datetime, int] | None = None  # keyset position: the last (next_fire_at, id) read


def sweep(
    session_factory: sessionmaker[Session],
    policy: SLAPolicy,
    now: datetime,
    coordinator: Coordinator,
    batch_size: int = 500,
    *,
    lock_ttl_s: float = 120.0,
    after_batch: Callable[[int], None] | None = None,
) -> SweepResult:
    """Fire every due level once, batch by batch (each batch commits); see the module docstring."""
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
        "sweep %s: %d deadlines, %d levels fired, %d digests",
        state.sweep_id,
        result.examined,
        result.fired,
        result.digests,
    )
    return result


def _sweep_batch(session: Session, state: _SweepState, batch_size: int, result: SweepResult) -> int:
    """One transaction: fire the due levels of up to `batch_size` deadlines; returns rows read."""
    stmt = (
        select(TicketDeadline, Ticket)
        .join(Ticket, Ticket.id == TicketDeadline.ticket_id)
        .where(
            TicketDeadline.next_fire_at <= state.now,
            TicketDeadline.met_at.is_(None),
            TicketDeadline.paused_at.is_(None),
        )
        .order_by(TicketDeadline.next_fire_at, TicketDeadline.id)
        .limit(batch_size)
    )
    if state.after is not None:
        # Keyset, not a rescan from the start: on PostgreSQL the index entries of rows this sweep
        # already advanced stay at the head of the index until vacuum, making rescans quadratic.
        at, last_id = state.after
        stmt = stmt.where(
            or_(
                TicketDeadline.next_fire_at > at,
                and_(TicketDeadline.next_fire_at == at, TicketDeadline.id > last_id),
            )
        )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True, of=TicketDeadline)
    rows = session.execute(stmt).all()
    result.examined += len(rows)
    if rows:
        last = rows[-1][0]
        state.after = (last.next_fire_at, last.id) if last.next_fire_at else state.after
    logs: list[dict[str, Any]] = []
    due: dict[tuple[int, str, int], tuple[TicketDeadline, Ticket]] = {}
    for d, t in rows:
        if t.status is TicketStatus.SUSPENDED:  # the lifecycle should have paused it; pause it now
            d.paused_at, d.next_fire_at = state.now, None
            continue
        if t.status not in OPEN_STATUSES:  # closed without stop_all: never fire again
            d.next_fire_at = None
            continue
        sched = Schedule(d.warn_at, d.due_at, d.escalate1_at, d.escalate2_at)
        levels = [lvl for lvl in range(d.fired_level + 1, 5) if sched.at_level(lvl) <= state.now]
        for lvl in levels:
            recipient = t.assignee_id if lvl == 1 else None
            logs.append(
                dict(ticket_id=t.id, deadline_kind=d.kind, cycle=d.cycle, level=lvl, recipient_id=recipient)
            )
        due[(t.id, d.kind.value, d.cycle)] = (d, t)
        if levels:
            d.fired_level = levels[-1]
            if d.fired_level >= 2 and d.breached_at is None:
                d.breached_at = d.due_at
        d.next_fire_at = deadlines.next_fire(d)
    inserted = _insert_logs(session, logs, state.now) if logs else []
    result.fired += len(inserted)
    top: dict[int, int] = {}
    new_items: dict[int, list[DigestItem]] = {}
    for ticket_id, kind, cycle, level in inserted:
        d, t = due[(ticket_id, DeadlineKind(kind).value, cycle)]
        top[ticket_id] = max(top.get(ticket_id, 0), level)
        item = DigestItem(
            ticket_id=ticket_id,
            category=state.policy.category_label(t.category),
            kind=d.kind,
            level=level,
            left=d.due_at - state.now,  # wall-clock time: what a reader can act on
            # community and street 督办 go to the admins directly, not into the residents' group
            room=_room(session, state, t.grid_id) if level < 3 else None,
        )
        for who in _recipients(session, state, level, t.grid_id, t.assignee_id):
            new_items.setdefault(who[0], []).append(item)
            state.digests.setdefault(who[0], _Recipient(platform_id=who[1]))
    for level in sorted(set(top.values())):
        ids = [t_id for t_id, lvl in top.items() if lvl == level]
        # Core UPDATE: no version bump, so the sweeper never makes a user's concurrent change stale
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_(ids), Ticket.escalation_level < level)
            .values(escalation_level=level)
            .execution_options(synchronize_session=False)
        )
    result.digests += _write_digests(session, state, new_items)
    session.flush()
    return len(rows)


def _insert_logs(
    session: Session, logs: list[dict[str, Any]], now: datetime
) -> list[tuple[int, str, int, int]]:
    """Insert reminder-log rows, skipping ones already there; returns the keys this call inserted."""
    ins = postgresql.insert if is_postgres(session) else sqlite.insert
    table = cast(Table, ReminderLog.__table__)
    c = table.c
    stmt = (
        ins(table)
        .on_conflict_do_nothing(index_elements=["ticket_id", "deadline_kind", "cycle", "level"])
        .returning(c.ticket_id, c.deadline_kind, c.cycle, c.level)
    )
    # Core, not the ORM bulk path: with RETURNING the ORM path is quadratic in the batch size
    rows = session.connection().execute(stmt, [{**log, "fired_at": now} for log in logs]).all()
    return [(r[0], str(r[1]), r[2], r[3]) for r in rows]


def _room(session: Session, state: _SweepState, grid_id: int) -> str | None:
    """The grid's first bound group room, cached for the sweep."""
    if grid_id not in state.rooms:
        state.rooms[grid_id] = session.scalar(
            select(ChatGroup.room_id)
            .where(ChatGroup.grid_id == grid_id)
            .order_by(ChatGroup.bound_at.asc().nulls_last(), ChatGroup.id)
            .limit(1)
        )
    return state.rooms[grid_id]


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


def _write_digests(session: Session, state: _SweepState, new_items: dict[int, list[DigestItem]]) -> int:
    """Extend this sweep's digests, or start them; returns outbox rows created."""
    open_ids = {rc.outbox_id for p in new_items if (rc := state.digests[p]).outbox_id is not None}
    # Lock the digests the sender has not claimed yet; the sender's SKIP LOCKED then leaves them be.
    stmt = select(Outbox.id).where(
        Outbox.id.in_(open_ids), Outbox.status == OutboxStatus.PENDING, Outbox.claimed_by.is_(None)
    )
    extendable = set(session.scalars(stmt.with_for_update())) if open_ids else set()
    updates: list[dict[str, Any]] = []
    created = 0
    for person_id, items in new_items.items():
        rc = state.digests[person_id]
        if rc.platform_id is None:
            logger.warning("person %d has no platform id; digest not sent", person_id)
            continue
        if rc.outbox_id is not None and rc.outbox_id not in extendable:
            rc.part += 1  # the sender took the earlier part already: start another
            rc.digest, rc.outbox_id = Digest(), None
        rc.digest.add(items)
        text, kind, room = rc.digest.render()
        if rc.outbox_id is not None:
            updates.append({"id": rc.outbox_id, "text": text, "kind": kind, **_address(room, rc.platform_id)})
            continue
        ids = rc.digest.ticket_ids
        row = enqueue(
            session,
            dedupe_key=f"sla:{state.sweep_id}:{person_id}:{rc.part}",
            kind=kind,
            text=text,
            now=state.now,
            ticket_id=next(iter(ids)) if len(ids) == 1 else None,
            **_address(room, rc.platform_id),
        )
        rc.outbox_id = row.id
        created += 1
    if updates:
        session.execute(update(Outbox), updates)  # bulk UPDATE by primary key
    return created


def _address(room: str | None, platform_id: str) -> dict[str, Any]:
    """In the group with an @mention when there is one room, else a direct message."""
    if room is not None:
        return {"room_id": room, "mention_ids": [platform_id], "recipient_platform_id": None}
    return {"room_id": None, "mention_ids": [], "recipient_platform_id": platform_id}


def _fmt(span: timedelta) -> str:
    minutes = max(int(span.total_seconds() // 60), 1)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分钟" if mins else f"{hours}小时"
    return f"{mins}分钟"

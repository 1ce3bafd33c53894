"""The sweeper's scratch tables, who hears a level, and the digests it writes (see sweeper.py).

Each batch of the sweep is a range of the temporary table `sweep_due` of due deadlines; this module
resolves the recipients per (level, grid, assignee) into `sweep_to`, summarises each recipient's part
of the batch in a few grouped queries, and writes or extends that person's digest in the outbox,
holding it for the quiet period unless urgent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from gridbot.models.db import is_postgres
from gridbot.models.entities import Grid, Outbox, Person, ReminderQuiet, Ticket
from gridbot.models.entities.base import UTCDateTime
from gridbot.models.enums import DeadlineKind, OutboxStatus, Role
from gridbot.models.messaging.outbox import enqueue
from gridbot.models.org.directory import grid_workers, region_admins
from gridbot.models.tickets.digests import MAX_LINES, Digest, DigestItem
from gridbot.models.tickets.sla import SLAPolicy

logger = logging.getLogger(__name__)

_ROLE_OF = {
    "grid_leader": Role.GRID_LEADER,
    "community_admin": Role.COMMUNITY_ADMIN,
    "street_admin": Role.STREET_ADMIN,
    "district_admin": Role.DISTRICT_ADMIN,
}
_WORKERS = frozenset({Role.GRIDWORKER, Role.PARTTIME_GRIDWORKER})
Who = tuple[int, str | None]  # person id, platform id
_UNHEARD: set[tuple[int, int]] = set()  # (level, grid) already warned of having no recipient
FIRE, PAUSE, STOP = 0, 1, 2  # what a batch does with a due deadline row


# Scratch tables (TEMPORARY: private to the connection, never in the schema). DUE lists a sweep's
# due deadlines; it lives across the sweep's batches, on one connection, and a batch is a range of
# its deadline ids.
_scratch = MetaData()
DUE = Table(
    "sweep_due",
    _scratch,
    Column("deadline_id", Integer, nullable=False),
    Column("ticket_id", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("grid_id", Integer, nullable=False),
    Column("assignee_key", Integer, nullable=False),  # assignee id, 0 when unassigned
    Column("action", Integer, nullable=False),
    Column("old_level", Integer, nullable=False),  # the highest level logged before
    Column("level", Integer, nullable=False),  # the highest due level: the one told
    Column("due_at", UTCDateTime(), nullable=False),
    Column("in_room", Boolean, nullable=False),  # told in the residents' group (else directly)
    Column("urgent", Boolean, nullable=False),
    Column("told", Boolean, nullable=False),  # action is FIRE
    Column("room", String(128)),
    prefixes=["TEMPORARY"],
)
TO = Table(
    "sweep_to",
    _scratch,
    Column("level", Integer, nullable=False),
    Column("grid_id", Integer, nullable=False),
    Column("assignee_key", Integer, nullable=False),
    Column("person_id", Integer, nullable=False),
    Column("own", Boolean, nullable=False),  # told of their own overdue ticket: nobody holds the level
    prefixes=["TEMPORARY"],
)


@dataclass
class Recipient:
    platform_id: str | None
    digest: Digest = field(default_factory=Digest)
    outbox_id: int | None = None
    part: int = 0
    release_at: datetime | None = None  # when its current outbox row goes out (held: the quiet period's end)


@dataclass
class SweepState:
    sweep_id: str
    now: datetime
    policy: SLAPolicy
    digests: dict[int, Recipient] = field(default_factory=dict)
    people: dict[tuple[int, str], list[Who]] = field(default_factory=dict)
    admins: dict[tuple[str, str] | None, list[Person]] = field(default_factory=dict)  # by region path
    grids: dict[int, Grid] = field(default_factory=dict)  # the grids the batch tells of
    released: set[int] = field(default_factory=set)  # people whose digest this sweep sent at once
    # the range of DUE.deadline_id this batch tells: (after, up to), None where unbounded
    batch: tuple[int | None, int | None] = (None, None)

    def in_batch(self) -> list[ColumnElement[bool]]:
        """The rows of DUE in this batch (no condition when one batch takes the whole list)."""
        lo, hi = self.batch
        out = []
        if lo is not None:
            out.append(DUE.c.deadline_id > lo)
        if hi is not None:
            out.append(DUE.c.deadline_id <= hi)
        return out

    def told(self) -> ColumnElement[bool]:
        """The rows of DUE this batch tells."""
        return and_(DUE.c.told.is_(True), *self.in_batch())


def resolve_recipients(session: Session, state: SweepState, keys: list[tuple[int, int, int]]) -> None:
    """Who hears each (level, grid, assignee) the batch tells, into the scratch table."""
    conn = session.connection()
    # the batch's grids in one query, held in the state: the identity map keeps only objects
    # referenced elsewhere, so a discarded list cost one session.get query a grid again
    ids = {grid_id for _, grid_id, _ in keys}
    state.grids = {g.id: g for g in session.scalars(select(Grid).where(Grid.id.in_(ids)))}
    rows = []
    for level, grid_id, assignee in keys:
        who, own = _recipients(session, state, level, grid_id, assignee or None), False
        if not who and level >= 2:
            # no 网格长 (or admin) for this level: the ticket's own gridworkers hear it is overdue,
            # rather than nobody at all until the next level
            who, own = _recipients(session, state, 1, grid_id, assignee or None), True
        for person_id, platform_id in who:
            rows.append(
                dict(level=level, grid_id=grid_id, assignee_key=assignee, person_id=person_id, own=own)
            )
            state.digests.setdefault(person_id, Recipient(platform_id=platform_id))
    if rows:
        conn.execute(insert(TO), rows)
        if is_postgres(session):  # its size decides how the summaries join and group
            conn.execute(text(f"ANALYZE {TO.name}"))


def _recipients(
    session: Session, state: SweepState, level: int, grid_id: int, assignee_id: int | None
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
    if not out and (level, grid_id) not in _UNHEARD:  # once per process: a missing 网格长 is a setup fact
        _UNHEARD.add((level, grid_id))
        logger.warning(
            "no recipient for level %d of tickets in grid %d (role not held there)", level, grid_id
        )
    return list(dict.fromkeys(out))


def _people(session: Session, state: SweepState, key: tuple[str, int]) -> list[Who]:
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
            grid = state.grids.get(ident) or session.get(Grid, ident)
            # admins hold a region: grids of one community share them (one query, not one a grid)
            path = (grid.region_path, what) if grid else None
            if path not in state.admins:
                state.admins[path] = region_admins(session, grid, _ROLE_OF[what]) if grid else []
            found = state.admins[path]
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
    first_soon: datetime | None = None  # the earliest deadline it warns of before it passes

    def into(self, digest: Digest, shift: timedelta) -> None:
        """Add to `digest`, its times told as they will be `shift` after the sweep (when it goes out)."""
        for sec, (n, tickets) in self.sections.items():
            digest.add(sec, n, tickets, self.lines.get(sec, []), shift)
        digest.add_rooms(self.rooms)
        digest.add_tickets(self.ticket_ids)


_SECTIONS = ("soon", "late", "own_late")  # the section codes the summary queries return, in order


def _summaries(session: Session, state: SweepState) -> dict[int, _Part]:
    """Each recipient's part of this batch, summarised in SQL (a few rows a person, at any volume).

    Two reads of the batch joined to its recipients: hash aggregates for the counts, rooms and
    tickets, and a sort for the first lines; sections are small integers, so neither compares text.
    """
    conn, due, to = session.connection(), DUE.c, TO.c
    joined = and_(
        state.told(),
        to.level == due.level,
        to.grid_id == due.grid_id,
        to.assignee_key == due.assignee_key,
    )
    now = literal(state.now, UTCDateTime())
    # the rule of digests.section, with own_late also for a level nobody holds (told to its own)
    sec = case((to.own.is_(True), 2), (due.level >= 2, 1), (due.due_at > now, 0), else_=2).label("sec")
    out: dict[int, _Part] = {}
    # per ticket first (a hash aggregate), then per section: distinct tickets without a sort
    per_ticket = (
        select(
            to.person_id,
            sec,
            func.count().label("n"),
            func.min(due.room).label("lo"),
            func.max(due.room).label("hi"),
            func.max(case((due.room.is_(None), 1), else_=0)).label("roomless"),
            func.max(case((due.urgent.is_(True), 1), else_=0)).label("urgent"),
        )
        .add_columns(due.ticket_id)
        .where(joined)
        .group_by(to.person_id, sec, due.ticket_id)
        .subquery()
    )
    q = per_ticket.c
    summary = select(
        q.person_id,
        q.sec,
        func.sum(q.n),
        func.count(),
        func.min(q.lo),
        func.max(q.hi),
        func.max(q.roomless),
        func.min(q.ticket_id),
        func.max(q.ticket_id),
        func.max(q.urgent),
    ).group_by(q.person_id, q.sec)
    for person_id, code, n, tickets, lo, hi, roomless, t_lo, t_hi, urgent in conn.execute(summary):
        part = out.setdefault(person_id, _Part())
        part.sections[_SECTIONS[code]] = (int(n), tickets)
        part.rooms |= {r for r in (lo, hi) if r is not None} | ({None} if roomless else set())
        # the lowest and highest ticket id: is the digest about one ticket?
        ids = part.ticket_ids | {t_lo, t_hi}
        part.ticket_ids = {min(ids), max(ids)}
        part.urgent = part.urgent or bool(urgent)
    # the first lines of each section, in the order a reader acts on them (closest due first)
    items = select(to.person_id, sec, due.ticket_id, due.kind, due.level, due.due_at).where(joined)
    long = any(n > MAX_LINES for part in out.values() for n, _ in part.sections.values())
    cuts = _cutoffs(session, items) if long and is_postgres(session) else None
    if cuts:  # only the rows due before each section's cutoff are ranked, not every told row
        people, codes, befores = (list(col) for col in zip(*cuts, strict=True))
        cut = func.unnest(
            literal(people, postgresql.ARRAY(Integer())),
            literal(codes, postgresql.ARRAY(Integer())),
            literal(befores, postgresql.ARRAY(UTCDateTime())),
        )
        c = cut.table_valued("person_id", "sec", "before").render_derived("cut")
        items = items.where(c.c.person_id == to.person_id, c.c.sec == sec, due.due_at < c.c.before)
    q = items.subquery().c
    rank = func.row_number().over(partition_by=(q.person_id, q.sec), order_by=(q.due_at, q.ticket_id, q.kind))
    ranked = select(q.person_id, q.sec, q.ticket_id, q.kind, q.level, q.due_at, rank.label("rn")).subquery()
    first = (
        select(ranked.c.person_id, ranked.c.sec, ranked.c.ticket_id, Ticket.category, ranked.c.kind)
        .add_columns(ranked.c.level, ranked.c.due_at)
        .join(Ticket, Ticket.id == ranked.c.ticket_id)
        .where(ranked.c.rn <= MAX_LINES)
        .order_by(ranked.c.person_id, ranked.c.sec, ranked.c.rn)
    )
    for person_id, code, ticket_id, category, kind, level, due_at in conn.execute(first):
        s = _SECTIONS[code]
        label = state.policy.category_label(category)
        item = DigestItem(ticket_id, label, DeadlineKind(kind), level, due_at - state.now)
        out[person_id].lines.setdefault(s, []).append(item)
        if s == "soon" and out[person_id].first_soon is None:  # ordered by due_at: the earliest
            out[person_id].first_soon = due_at
    return out


_HOUR = timedelta(hours=1)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _cutoffs(session: Session, items: Select[Any]) -> list[tuple[int, int, datetime]]:
    """For each person and section, an instant before which its first lines all fall due.

    Counted per hour of due time (a hash aggregate): the end of the first hour by which the section
    holds MAX_LINES items. Ranking only the items due before it returns the same first lines as
    ranking all of them, without sorting every told row after an outage. A section with fewer items
    gets no cutoff (all its items are ranked: few).
    """
    q = items.subquery().c
    # date_bin, not floor(extract(epoch) / 3600): that divides numerics, 0.1 s more at 300,000 rows
    hour = func.date_bin(literal(_HOUR), q.due_at, literal(_EPOCH, UTCDateTime()))
    hist = select(q.person_id, q.sec, hour, func.count()).group_by(q.person_id, q.sec, hour)
    by_group: dict[tuple[int, int], list[tuple[datetime, int]]] = {}
    for person_id, code, h, n in session.connection().execute(hist):
        by_group.setdefault((person_id, code), []).append((h, n))
    out = []
    for (person_id, code), hours in by_group.items():
        seen = 0
        for h, n in sorted(hours):
            seen += n
            if seen >= MAX_LINES:
                out.append((person_id, code, h + _HOUR))
                break
        else:
            out.append((person_id, code, datetime.max.replace(tzinfo=UTC)))
    return out


def write_digests(session: Session, state: SweepState) -> int:
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
        if rc.outbox_id is None:
            rc.release_at = _release_at(state, quiet, person_id, part)
        release = rc.release_at or state.now
        # what it says must hold when it is read: 「剩余9分钟」 is told as of the moment it goes out
        part.into(rc.digest, release - state.now)
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
        if release > state.now:
            row.next_attempt_at = release  # held: every digest of the period goes out at that instant
        else:
            _released(session, state, quiet, person_id)
    if updates:
        session.execute(update(Outbox), updates)  # bulk UPDATE by primary key
    return created


def _quiet_rows(session: Session, state: SweepState, people: list[int]) -> dict[int, datetime]:
    """When each of these people last got a digest released at once (the quiet period's start)."""
    if not state.policy.quiet or not people:
        return {}
    rows = session.execute(
        select(ReminderQuiet.person_id, ReminderQuiet.last_at).where(ReminderQuiet.person_id.in_(people))
    )
    return {person: at for person, at in rows}


def _release_at(state: SweepState, quiet: dict[int, datetime], person_id: int, part: _Part) -> datetime:
    """When a new digest goes out: now, or held until the person's quiet period ends.

    Urgent digests are never held, nor later parts of one released in this sweep; nor a warning
    that would arrive after the deadline it warns of (「即将超时」 read once it has passed is false).
    """
    period = state.policy.quiet
    last = quiet.get(person_id)
    if not period or last is None or part.urgent or person_id in state.released:
        return state.now
    until = last + period
    if until <= state.now or (part.first_soon is not None and part.first_soon <= until):
        return state.now
    return until


def _released(session: Session, state: SweepState, quiet: dict[int, datetime], person_id: int) -> None:
    """A digest went out at once: the person's quiet period starts now."""
    if not state.policy.quiet:
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

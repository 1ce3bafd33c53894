"""Read queries behind the officials' dashboard and the gridworkers' work page.

Tickets with filters (status, category, priority, grid, overdue, 催办, 重办) and offset pages; a
ticket's full trail (events, linked messages, ratings); the category distribution and hot issues;
per-gridworker performance; the overdue list with who is responsible and for how long; grid
geometry for the map. Resident text is served from the masked copy written at intake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, null, or_, select
from sqlalchemy.orm import Session, aliased

from gridbot.models.attachments import records as attachment_records
from gridbot.models.entities import (
    Grid,
    Message,
    Person,
    Rating,
    Ticket,
    TicketDeadline,
    TicketEvent,
    TicketReporter,
)
from gridbot.models.enums import OPEN_STATUSES, STATUS_LABELS, DeadlineKind, Priority, TicketStatus
from gridbot.models.metrics import rules
from gridbot.models.metrics.period import Period

PRIORITY_LABELS = {Priority.URGENT: "紧急", Priority.NORMAL: "一般"}
MAX_PAGE = 200


@dataclass(frozen=True)
class TicketQuery:
    """Filters of the ticket list; None means any."""

    statuses: tuple[TicketStatus, ...] = ()
    category: str | None = None  # the label as shown (类别)
    priority: Priority | None = None
    grid_id: int | None = None
    assignee_id: int | None = None
    overdue: bool | None = None
    urged: bool | None = None
    reopened: bool | None = None
    needs_review: bool | None = None
    period: Period | None = None  # created in
    extra: tuple[ColumnElement[bool], ...] = field(default=())


def _due_now() -> Any:
    """SQL: the earliest unmet resolution deadline of the ticket (its current 应办结 time)."""
    return (
        select(func.min(TicketDeadline.due_at))
        .where(
            TicketDeadline.ticket_id == Ticket.id,
            TicketDeadline.kind == DeadlineKind.RESOLUTION,
            TicketDeadline.met_at.is_(None),
        )
        .scalar_subquery()
    )


def _conditions(scope_path: str | None, q: TicketQuery, now: datetime) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = list(q.extra)
    if scope_path is not None:
        cond.append(Grid.region_path.startswith(scope_path, autoescape=True))
    if q.statuses:
        cond.append(Ticket.status.in_(q.statuses))
    if q.category:
        cond.append(Ticket.category_label == q.category)
    if q.priority is not None:
        cond.append(Ticket.priority == q.priority)
    if q.grid_id is not None:
        cond.append(Ticket.grid_id == q.grid_id)
    if q.assignee_id is not None:
        cond.append(Ticket.assignee_id == q.assignee_id)
    if q.period is not None:
        cond.append(q.period.contains(Ticket.created_at))
    for flag, rule in (
        (q.overdue, rules.overdue_at(now)),
        (q.urged, rules.urged(now)),
        (q.reopened, rules.reopened(now)),
    ):
        if flag is not None:
            cond.append(rule if flag else not_(rule))
    if q.needs_review is not None:
        cond.append(Ticket.needs_review.is_(q.needs_review))
    return cond


def ticket_rows(
    session: Session, scope_path: str | None, q: TicketQuery, now: datetime, offset: int = 0, limit: int = 50
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page newest first) of tickets in the scope."""
    cond = _conditions(scope_path, q, now)
    total = int(
        session.scalar(select(func.count(Ticket.id)).join(Grid, Grid.id == Ticket.grid_id).where(*cond)) or 0
    )
    assignee = aliased(Person)
    due = _due_now().label("due_at")
    stmt = (
        select(
            Ticket,
            Grid.name.label("grid_name"),
            assignee.name.label("assignee_name"),
            due,
            rules.urged(now).label("urged"),
            rules.reopened(now).label("reopened"),
        )
        .join(Grid, Grid.id == Ticket.grid_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(*cond)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .offset(offset)
        .limit(min(limit, MAX_PAGE))
    )
    out = []
    for t, grid_name, assignee_name, due_at, urged, reopened in session.execute(stmt):
        out.append(_row(t, grid_name, assignee_name, due_at, bool(urged), bool(reopened), now))
    return total, out


def _aware(at: datetime | None) -> datetime | None:
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=UTC)


def _row(
    t: Ticket,
    grid_name: str,
    assignee_name: str | None,
    due_at: datetime | None,
    urged: bool,
    reopened: bool,
    now: datetime,
) -> dict[str, Any]:
    due = _aware(due_at)
    open_ = t.status in OPEN_STATUSES
    overdue_s = (now - due).total_seconds() if open_ and due is not None and due < now else None
    if t.status is TicketStatus.SUSPENDED:
        overdue_s = None  # a paused clock is not overdue
    return {
        "number": t.id,
        "kind": t.kind.value,
        "category": t.category_label or t.category,
        "priority": t.priority.value,
        "priority_label": PRIORITY_LABELS.get(t.priority, t.priority.value),
        "status": t.status.value,
        "status_label": STATUS_LABELS[t.status],
        "grid_id": t.grid_id,
        "grid": grid_name,
        "assignee_id": t.assignee_id,
        "assignee": assignee_name,
        "text": t.text_masked,
        "source": t.source,
        "needs_review": t.needs_review,
        "escalation_level": t.escalation_level,
        "cycle": t.cycle,
        "urged": urged,
        "reopened": reopened,
        "created_at": _aware(t.created_at),
        "due_at": due,
        "overdue_s": overdue_s,
        "version": t.version,
    }


def ticket_trail(session: Session, number: int) -> dict[str, Any] | None:
    """A ticket's events (actor names), messages (masked text), attachments, ratings and reporters."""
    t = session.get(Ticket, number)
    if t is None:
        return None
    events = [
        {
            "at": _aware(e.at),
            "action": e.action,
            "actor": name,
            "from_status": STATUS_LABELS[e.from_status] if e.from_status else None,
            "to_status": STATUS_LABELS[e.to_status] if e.to_status else None,
            "note": e.note,
            "data": e.data or {},
        }
        for e, name in session.execute(
            select(TicketEvent, Person.name)
            .outerjoin(Person, Person.id == TicketEvent.actor_id)
            .where(TicketEvent.ticket_id == number)
            .order_by(TicketEvent.at, TicketEvent.id)
        )
    ]
    reporter_msgs = select(TicketReporter.message_id).where(
        TicketReporter.ticket_id == number, TicketReporter.message_id.is_not(None)
    )
    messages = [
        {
            "at": _aware(m.sent_at),
            "sender": name,
            "role": m.sender_role.value if m.sender_role else None,
            "direction": m.direction.value,
            "type": m.msg_type.value,
            "text": m.text_masked,
        }
        for m, name in session.execute(
            select(Message, Person.name)
            .outerjoin(Person, Person.id == Message.sender_id)
            .where(or_(Message.ticket_id == number, Message.id.in_(reporter_msgs)))
            .order_by(Message.sent_at, Message.id)
            .limit(200)
        )
    ]
    ratings = [
        {
            "at": _aware(r.created_at),
            "cycle": r.cycle,
            "score": r.score.value,
            "solved": r.solved,
            "comment": r.comment,
        }
        for r in session.scalars(select(Rating).where(Rating.ticket_id == number).order_by(Rating.created_at))
    ]
    deadlines = [
        {
            "kind": d.kind.value,
            "cycle": d.cycle,
            "due_at": _aware(d.due_at),
            "met_at": _aware(d.met_at),
            "paused": d.paused_at is not None,
        }
        for d in session.scalars(
            select(TicketDeadline).where(TicketDeadline.ticket_id == number).order_by(TicketDeadline.id)
        )
    ]
    reporters = int(
        session.scalar(select(func.count(TicketReporter.id)).where(TicketReporter.ticket_id == number)) or 0
    )
    attachments = [
        {
            "id": a.id,
            "at": _aware(a.created_at),
            "kind": a.kind.value,
            "role": a.role.value if a.role else None,
            "status": a.status.value,
            "reason": a.reason,
            "content_type": a.content_type,
            "size_bytes": a.size_bytes,
            "needs_listening": a.needs_listening,
            "transcript": a.transcript_masked,
        }
        for a in attachment_records.of_ticket(session, number)
    ]
    return {
        "events": events,
        "messages": messages,
        "ratings": ratings,
        "deadlines": deadlines,
        "reporters": reporters,
        "resolution_note": t.resolution_note,
        "attachments": attachments,
        "photos": sum(1 for a in attachments if a["kind"] == "image" and a["status"] == "stored"),
    }


def category_counts(
    session: Session, scope_path: str, period: Period, grid_id: int | None = None
) -> list[tuple[str, int]]:
    """Received tickets of the period per category label, most first (of one grid when given)."""
    label = func.coalesce(func.nullif(Ticket.category_label, ""), Ticket.category)
    where = [rules.received(period), Grid.region_path.startswith(scope_path, autoescape=True)]
    if grid_id is not None:
        where.append(Ticket.grid_id == grid_id)
    rows = session.execute(
        select(label, func.count(Ticket.id))
        .join(Grid, Grid.id == Ticket.grid_id)
        .where(*where)
        .group_by(label)
        .order_by(func.count(Ticket.id).desc(), label)
    ).all()
    return [(str(c), int(n)) for c, n in rows]


def hot_issues(session: Session, scope_path: str, now: datetime, limit: int = 10) -> dict[str, Any]:
    """Rising categories (last 7 days against the 7 before) and the grids with most tickets in 7 days."""
    week = Period(now - timedelta(days=7), now)
    before = Period(now - timedelta(days=14), now - timedelta(days=7))
    this = dict(category_counts(session, scope_path, week))
    last = dict(category_counts(session, scope_path, before))
    ordered = sorted(this.items(), key=lambda cn: (-(cn[1] - last.get(cn[0], 0)), -cn[1], cn[0]))
    rising = [
        {"category": c, "this_week": n, "last_week": last.get(c, 0), "change": n - last.get(c, 0)}
        for c, n in ordered
    ]
    places = session.execute(
        select(Grid.id, Grid.name, func.count(Ticket.id))
        .join(Ticket, Ticket.grid_id == Grid.id)
        .where(Grid.region_path.startswith(scope_path, autoescape=True), rules.received(week))
        .group_by(Grid.id, Grid.name)
        .order_by(func.count(Ticket.id).desc(), Grid.name)
        .limit(limit)
    ).all()
    return {
        "rising": rising[:limit],
        "places": [{"grid_id": g, "grid": n, "count": int(c)} for g, n, c in places],
    }


def worker_performance(
    session: Session, scope_path: str, period: Period, now: datetime, person_id: int | None = None
) -> list[dict[str, Any]]:
    """Per assignee (责任人): tickets of the period, first response and resolution in time, open, overdue, ratings."""
    end = min(period.end, now)
    got = rules.received(period)
    count = rules.count_where
    stmt = (
        select(
            Person.id,
            Person.name,
            count(got).label("received"),
            count(and_(got, rules.response_due(end))).label("response_due"),
            count(and_(got, rules.responded_on_time(end))).label("responded_on_time"),
            count(and_(got, rules.accepted_on_time(end))).label("accepted_on_time"),
            count(and_(got, rules.resolved(end))).label("resolved"),
            count(and_(got, rules.resolved_on_time(end))).label("resolved_on_time"),
            count(and_(got, rules.patrol())).label("patrol"),
            count(Ticket.status.in_(OPEN_STATUSES)).label("open"),
            count(rules.overdue_at(now)).label("overdue"),
        )
        .join(Ticket, Ticket.assignee_id == Person.id)
        .join(Grid, Grid.id == Ticket.grid_id)
        .where(
            Grid.region_path.startswith(scope_path, autoescape=True),
            or_(period.contains(Ticket.created_at), Ticket.status.in_(OPEN_STATUSES)),
            *([Person.id == person_id] if person_id is not None else []),
        )
        .group_by(Person.id, Person.name)
    )
    rated = dict(
        (pid, (int(n), int(s)))
        for pid, n, s in session.execute(
            select(
                Ticket.assignee_id,
                func.count(Rating.id),
                count(Rating.score.in_(rules.SATISFIED_SCORES)),
            )
            .join(Ticket, Ticket.id == Rating.ticket_id)
            .join(Grid, Grid.id == Ticket.grid_id)
            .where(
                Grid.region_path.startswith(scope_path, autoescape=True), period.contains(Rating.created_at)
            )
            .group_by(Ticket.assignee_id)
        )
    )
    out = []
    for r in session.execute(stmt).mappings():
        n, s = rated.get(r["id"], (0, 0))
        due = int(r["response_due"])
        received = int(r["received"])
        out.append(
            {
                "person_id": r["id"],
                "name": r["name"],
                **{
                    k: int(r[k])
                    for k in (
                        "received",
                        "response_due",
                        "responded_on_time",
                        "accepted_on_time",
                        "resolved",
                        "resolved_on_time",
                        "patrol",
                        "open",
                        "overdue",
                    )
                },
                "rated": n,
                "satisfied": s,
                "first_response_on_time_rate": int(r["responded_on_time"]) / due if due else None,
                "on_time_signing_rate": int(r["accepted_on_time"]) / due if due else None,
                "resolution_rate": int(r["resolved"]) / received if received else None,
                "satisfaction_rate": s / n if n else None,
            }
        )
    out.sort(key=lambda w: (-w["received"], w["name"]))
    return out


def overdue_rows(
    session: Session, scope_path: str, grid_id: int | None, now: datetime, limit: int = 50
) -> list[dict[str, Any]]:
    """Tickets overdue now, longest overdue first, with 责任人, 超期时长 and escalation level."""
    q = TicketQuery(grid_id=grid_id, overdue=True)
    cond = _conditions(scope_path, q, now)
    assignee = aliased(Person)
    due = _due_now()
    stmt = (
        select(Ticket, Grid.name, assignee.name, due.label("due_at"), rules.urged(now), rules.reopened(now))
        .join(Grid, Grid.id == Ticket.grid_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(*cond)
        .order_by(due.asc().nulls_last(), Ticket.id)
        .limit(limit)
    )
    return [_row(t, g, a, d, bool(u), bool(r), now) for t, g, a, d, u, r in session.execute(stmt)]


def grid_shapes(session: Session, scope_path: str, outlines: bool = True) -> list[dict[str, Any]]:
    """Grids of the scope that have a centre point or a GeoJSON geometry (for the map); without outlines, centres only."""
    outline = Grid.geometry if outlines else null()
    rows = session.execute(
        select(Grid.id, Grid.code, Grid.name, Grid.center_lng, Grid.center_lat, outline).where(
            Grid.region_path.startswith(scope_path, autoescape=True),
            or_(Grid.center_lng.is_not(None), Grid.geometry.is_not(None)),
        )
    ).all()
    return [
        {
            "grid_id": i,
            "code": c,
            "name": n,
            "center": [lng, lat] if lng is not None and lat is not None else None,
            "geometry": g,
        }
        for i, c, n, lng, lat, g in rows
    ]


def exists_in_scope(session: Session, number: int, scope_path: str) -> bool:
    """Whether ticket `number` belongs to a grid of the scope."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    Ticket.id == number,
                    Grid.id == Ticket.grid_id,
                    Grid.region_path.startswith(scope_path, autoescape=True),
                )
            )
        )
    )


def next_deadlines(session: Session, numbers: list[int]) -> dict[int, tuple[datetime | None, str | None]]:
    """Each ticket's nearest unmet, running deadline (due time, kind) of its current cycle."""
    if not numbers:
        return {}
    rows = session.execute(
        select(TicketDeadline.ticket_id, TicketDeadline.due_at, TicketDeadline.kind)
        .join(Ticket, Ticket.id == TicketDeadline.ticket_id)
        .where(
            TicketDeadline.ticket_id.in_(numbers),
            TicketDeadline.cycle == Ticket.cycle,
            TicketDeadline.met_at.is_(None),
            TicketDeadline.paused_at.is_(None),
        )
        .order_by(TicketDeadline.due_at)
    ).all()
    out: dict[int, tuple[datetime | None, str | None]] = {}
    for tid, due, kind in rows:
        out.setdefault(tid, (_aware(due), kind.value))
    return out


def known_categories(session: Session) -> list[dict[str, str]]:
    """The categories in use (kind, id, label), for correcting a classification (改类)."""
    rows = session.execute(
        select(Ticket.kind, Ticket.category, Ticket.category_label)
        .where(Ticket.category_label != "")
        .distinct()
        .order_by(Ticket.category_label)
    ).all()
    seen: dict[str, dict[str, str]] = {}
    for kind, category, label in rows:
        seen.setdefault(label, {"kind": kind.value, "category": category, "label": label})
    return list(seen.values())

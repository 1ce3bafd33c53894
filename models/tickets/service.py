"""Ticket service: the one place where tickets are opened and moved through their lifecycle.

Every change checks `models.lifecycle`, writes a TicketEvent, keeps the SLA clocks right and
queues the group announcement in the outbox, all in the caller's transaction (never committed here).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from gridbot.models.attachments import records as attachment_records
from gridbot.models.db import attach
from gridbot.models.entities import Grid, Person, Rating, Ticket, TicketEvent, TicketReporter
from gridbot.models.entities.exchange import record_event
from gridbot.models.entities.ticket import SOURCE_PATROL, SOURCE_RESIDENT
from gridbot.models.enums import (
    OPEN_STATUSES,
    DeadlineKind,
    Priority,
    RatingScore,
    Role,
    TicketKind,
    TicketSource,
    TicketStatus,
)
from gridbot.models.errors import (
    ConcurrentUpdate,
    PermissionDenied,
    TicketError,
    TicketNotFound,
    TransitionNotAllowed,
)
from gridbot.models.org.directory import Actor, grid_staff, grid_workers
from gridbot.models.tickets import deadlines, duplicate_index
from gridbot.models.tickets.announce import announce, room_can_post
from gridbot.models.tickets.fair_use import OVERFLOW
from gridbot.models.tickets.lifecycle import Action, check, check_closing
from gridbot.models.tickets.sla import SLAPolicy

RATING_WINDOW = timedelta(hours=48)


def get_ticket(session: Session, number: int, *, reporters: bool = False) -> Ticket:
    """The ticket with this number, or TicketNotFound (`reporters`: loaded in the same query)."""
    options = [joinedload(Ticket.reporters)] if reporters else []
    ticket = session.get(Ticket, number, options=options)
    if ticket is None:
        raise TicketNotFound(number)
    return ticket


def reported_open(ticket: Ticket, person_id: int) -> bool:
    """Whether this is one of the person's own open tickets (as `open_of_reporters` lists them)."""
    return ticket.status in OPEN_STATUSES and any(r.person_id == person_id for r in ticket.reporters)


def is_reporter(session: Session, ticket: Ticket, person_id: int | None) -> bool:
    """Whether the person reported this ticket (first or merged-in reporter)."""
    if person_id is None:
        return False
    if ticket.reporter_id == person_id:
        return True
    return any(r.person_id == person_id for r in ticket.reporters)


def open_ticket(
    session: Session,
    *,
    grid_id: int,
    kind: TicketKind,
    category: str,
    category_label: str,
    priority: Priority,
    text: str,
    text_masked: str,
    reporter_id: int | None,
    now: datetime,
    policy: SLAPolicy,
    source_message_id: int | None = None,
    confidence: float | None = None,
    needs_review: bool = False,
    source: str = SOURCE_RESIDENT,
    assignee_id: int | None = None,
    duplicate_entry: duplicate_index.Entry | None = None,
    staff: list[tuple[Person, Role]] | None = None,
) -> Ticket:
    """File a new ticket, assign the grid's gridworker (or `assignee_id`) and start its SLA clocks.

    `source` is "resident" for a resident's report, "patrol" for one a gridworker found on patrol (主动发现).
    `duplicate_entry`: its duplicate features and keys, stored with it (None: computed by the next check).
    `staff`: the grid's `grid_staff` as the caller read it in this transaction (None: read here).
    The ticket and its reporter go in one flush, its clocks in one INSERT (a statement a table, no read back).
    """
    if source not in (SOURCE_RESIDENT, SOURCE_PATROL):
        raise ValueError(f"unknown ticket source {source!r}")
    if staff is None:
        staff = grid_staff(session, grid_id)
    if assignee_id is None:
        assignee_id = first_assignee(staff)
    ticket = Ticket(
        kind=kind,
        category=category,
        category_label=category_label,
        priority=priority,
        status=TicketStatus.NEW,
        grid_id=grid_id,
        reporter_id=reporter_id,
        assignee_id=assignee_id,
        source_message_id=source_message_id,
        source=source,
        text=text,
        text_masked=text_masked,
        confidence=confidence,
        needs_review=needs_review,
        created_at=now,
        updated_at=now,
        cycle=0,
    )
    # set before the flush, the collection is known complete: nothing reads it back
    ticket.reporters = (
        [TicketReporter(person_id=reporter_id, message_id=source_message_id, created_at=now)]
        if reporter_id is not None
        else []
    )
    session.add(ticket)
    session.flush()
    deadlines.start_first(session, ticket, now, policy)
    duplicate_index.add(session, ticket, duplicate_entry)
    data = {"needs_review": needs_review, "source": str(source)}
    _event(session, ticket, None, "create", None, TicketStatus.NEW, now, data=data)
    session.flush()
    return ticket


def first_assignee(staff: list[tuple[Person, Role]]) -> int | None:
    """Who a new ticket goes to: the grid's first full- or part-time gridworker (`staff` as
    `grid_staff` lists them); None when it has none (a grid leader is not assigned)."""
    return next((p.id for p, role in staff if role in _ASSIGNABLE), None)


_ASSIGNABLE = frozenset({Role.GRIDWORKER, Role.PARTTIME_GRIDWORKER})


def add_reporter(
    session: Session, ticket: Ticket, person_id: int, message_id: int | None, now: datetime
) -> bool:
    """Record another resident reporting the same problem; False if they already had."""
    if is_reporter(session, ticket, person_id):
        return False
    ticket.reporters.append(TicketReporter(person_id=person_id, message_id=message_id, created_at=now))
    _event(session, ticket, person_id, "report", None, None, now, data={"message_id": message_id})
    session.flush()
    return True


def _event(
    session: Session,
    ticket: Ticket,
    actor_id: int | None,
    action: str,
    from_status: TicketStatus | None,
    to_status: TicketStatus | None,
    now: datetime,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """Write the event (and its webhook event, `exchange.record_event`) now; the object returned is
    attached to the session as its row, without a read back."""
    session.flush()  # what the event refers to is written first, as the flush used to order it
    values: dict[str, Any] = {
        "ticket_id": ticket.id,
        "actor_id": actor_id,
        "at": now,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "note": note,
        "data": data or {},
    }
    event_id = record_event(session, values)
    return attach(session, TicketEvent, values | {"id": event_id, "at": now.astimezone(UTC)})


def _move(
    session: Session,
    number: int,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    note: str | None = None,
    expected_version: int | None = None,
    data: dict[str, Any] | None = None,
    announce_it: bool = True,
) -> tuple[Ticket, TicketEvent]:
    """Check and apply one transition; the hooks for each action run in `_effects`."""
    ticket = get_ticket(session, number)
    if expected_version is not None and ticket.version != expected_version:
        raise ConcurrentUpdate(f"工单 #{number} 已被他人更新，请刷新后重试")
    grid = session.get(Grid, ticket.grid_id)
    assert grid is not None
    before = ticket.status
    after = check(action, ticket, grid, actor, is_reporter(session, ticket, actor.person_id))
    ticket.status = after
    ticket.updated_at = now
    try:
        session.flush()
    except StaleDataError:
        raise ConcurrentUpdate(f"工单 #{number} 刚刚已被他人处理，请查看最新状态后重试") from None
    event = _event(session, ticket, actor.person_id, action.value, before, after, now, note, data)
    if announce_it:
        announce(session, ticket, event, now)
    return ticket, event


def _first_response(session: Session, ticket: Ticket, now: datetime, kw: dict[str, Any]) -> None:
    # announced in a room the bot may not post in, the answer is a handoff: the resident sees it
    # only once the gridworker posted it, and that moment is the first response (handoff.close)
    if kw.get("announce_it", True) and not room_can_post(session, ticket.grid_id):
        return
    record_first_response(session, ticket, now)


def record_first_response(session: Session, ticket: Ticket, at: datetime) -> None:
    """The resident could see an answer at `at` (no-op when an earlier answer was already seen)."""
    if ticket.first_response_at is None:
        ticket.first_response_at = at
        deadlines.meet(session, ticket, DeadlineKind.FIRST_RESPONSE, at)


def accept(session: Session, number: int, actor: Actor, now: datetime, **kw: Any) -> Ticket:
    """接单: the actor takes the ticket; counts as the first response."""
    ticket, _ = _move(session, number, Action.ACCEPT, actor, now, **kw)
    ticket.accepted_at = now
    ticket.needs_review = False
    if actor.person_id is not None and Role.SYSTEM not in actor.roles_for(_grid(session, ticket)):
        ticket.assignee_id = actor.person_id
    _first_response(session, ticket, now, kw)
    return ticket


def respond(session: Session, number: int, actor: Actor, now: datetime, text: str, **kw: Any) -> Ticket:
    """回复: a reply relayed to the reporters; a first response, and progress feedback."""
    ticket, _ = _move(session, number, Action.RESPOND, actor, now, note=text, **kw)
    if ticket.accepted_at is None:
        ticket.accepted_at = now
    ticket.needs_review = False
    _first_response(session, ticket, now, kw)
    if ticket.feedback_at is None:
        ticket.feedback_at = now
        deadlines.meet(session, ticket, DeadlineKind.FEEDBACK, now)
    return ticket


def start(session: Session, number: int, actor: Actor, now: datetime, **kw: Any) -> Ticket:
    """处理: work on an accepted ticket has begun."""
    ticket, _ = _move(session, number, Action.START, actor, now, **kw)
    return ticket


def resolve(
    session: Session,
    number: int,
    actor: Actor,
    now: datetime,
    note: str | None = None,
    *,
    policy: SLAPolicy,
    **kw: Any,
) -> Ticket:
    """办结: the problem is handled; the reporters are asked to rate it.

    A category the policy lists under `closing.photo_required` needs a 处置后照片 linked first
    (chat, work page and API all come here, so none can close without it).
    """
    ticket = get_ticket(session, number)
    grid = session.get(Grid, ticket.grid_id)
    assert grid is not None
    check(Action.RESOLVE, ticket, grid, actor, is_reporter(session, ticket, actor.person_id))
    check_closing(ticket, policy.photo_required, attachment_records.after_photos(session, ticket.id))
    ticket, _ = _move(session, number, Action.RESOLVE, actor, now, note=note, **kw)
    ticket.resolved_at = now
    ticket.resolution_note = note
    ticket.needs_review = False
    ticket.accepted_at = ticket.accepted_at or now
    _first_response(session, ticket, now, kw)
    for kind in (DeadlineKind.FEEDBACK, DeadlineKind.RESOLUTION):
        deadlines.meet(session, ticket, kind, now)
    ticket.feedback_at = ticket.feedback_at or now
    return ticket


def suspend(session: Session, number: int, actor: Actor, now: datetime, reason: str, **kw: Any) -> Ticket:
    """挂起: waiting on something outside the grid; the SLA clocks pause."""
    ticket, _ = _move(session, number, Action.SUSPEND, actor, now, note=reason, **kw)
    ticket.suspended_at = now
    deadlines.pause(session, ticket, now)
    return ticket


def resume(
    session: Session, number: int, actor: Actor, now: datetime, policy: SLAPolicy, **kw: Any
) -> Ticket:
    """恢复: the SLA clocks run again, shifted by the time spent suspended."""
    ticket, _ = _move(session, number, Action.RESUME, actor, now, **kw)
    ticket.suspended_at = None
    deadlines.resume(session, ticket, now, policy)
    return ticket


def transfer(
    session: Session, number: int, actor: Actor, now: datetime, to_person_id: int, **kw: Any
) -> Ticket:
    """转派: hand the ticket to another gridworker of the same grid."""
    ticket = get_ticket(session, number)
    target = session.get(Person, to_person_id)
    if target is None or target.id not in {p.id for p in grid_workers(session, ticket.grid_id)}:
        raise TicketError(f"转派对象不是本网格的网格员，无法转派工单 {ticket.number}")
    data = {"from": ticket.assignee_id, "to": to_person_id}
    ticket, event = _move(session, number, Action.TRANSFER, actor, now, data=data, announce_it=False, **kw)
    ticket.assignee_id = to_person_id
    announce(session, ticket, event, now)
    return ticket


def merge(session: Session, number: int, into: int, actor: Actor, now: datetime, **kw: Any) -> Ticket:
    """合并: a duplicate joins an open ticket of the same grid; its reporters move along."""
    if number == into:
        raise TicketError("不能把工单合并到它自己")
    target = get_ticket(session, into)
    source = get_ticket(session, number)
    if target.grid_id != source.grid_id:
        raise TicketError(f"工单 {source.number} 和 {target.number} 不在同一网格，不能合并")
    if target.status not in (
        TicketStatus.NEW,
        TicketStatus.ACCEPTED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.SUSPENDED,
    ):
        raise TransitionNotAllowed(f"工单 {target.number} 已不在办理中，不能合并进去")
    before = {"priority": target.priority.value, "clocks": deadlines.snapshot(session, target)}
    data: dict[str, Any] = {"into": into, "target_before": before, "added": []}
    source, event = _move(session, number, Action.MERGE, actor, now, data=data, **kw)
    source.merged_into_id = into
    # the main ticket never loses urgency or a stricter deadline by taking a duplicate in
    if source.priority is Priority.URGENT and target.priority is not Priority.URGENT:
        target.priority = Priority.URGENT
    deadlines.take_strictest(session, target, source)
    deadlines.stop_all(session, source, now)
    added = []
    people = {r.person_id for r in source.reporters}
    if source.reporter_id is not None:
        people.add(source.reporter_id)
    for person_id in sorted(people):
        if add_reporter(session, target, person_id, source.source_message_id, now):
            added.append(person_id)
    event.data = {**data, "added": added}
    return source


def unmerge(session: Session, number: int, actor: Actor, now: datetime) -> tuple[Ticket, int]:
    """撤销合并: the ticket leaves the one it was merged into, in the status and clocks it had."""
    ticket = get_ticket(session, number)
    merged = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == Action.MERGE.value)
        .order_by(TicketEvent.id.desc())
        .limit(1)
    ).first()
    ticket, event = _move(session, number, Action.UNMERGE, actor, now, announce_it=False)
    if merged is None or merged.from_status is None:
        raise TicketError(f"找不到工单 {ticket.number} 的合并记录，无法撤销")
    into = int(merged.data.get("into") or 0)
    ticket.status = merged.from_status
    ticket.merged_into_id = None
    event.to_status = ticket.status
    event.data = {"from": into}
    deadlines.reopen_clocks(session, ticket)
    target = session.get(Ticket, into)
    if target is not None:
        added = set(merged.data.get("added") or ())
        for r in list(target.reporters):
            if r.person_id in added:
                target.reporters.remove(r)
        before = merged.data.get("target_before") or {}
        if before.get("priority"):
            target.priority = Priority(before["priority"])
        deadlines.restore(session, target, before.get("clocks") or {})
        target.updated_at = now
    session.flush()
    announce(session, ticket, event, now)
    return ticket, into


def reprioritize(
    session: Session, number: int, actor: Actor, now: datetime, priority: Priority, policy: SLAPolicy
) -> Ticket:
    """改级: urgent or normal, with the clocks; a person's decision also confirms the ticket.

    Raised to urgent, the clocks count from now; lowered, from the start of the current cycle.
    """
    ticket = get_ticket(session, number)
    data = {"from": ticket.priority.value, "to": priority.value}
    ticket, _ = _move(session, number, Action.REPRIORITIZE, actor, now, data=data, announce_it=False)
    raised = priority is Priority.URGENT and ticket.priority is not Priority.URGENT
    ticket.priority = priority
    ticket.needs_review = False
    start = now if raised else (ticket.reopened_at or ticket.created_at)
    deadlines.reschedule(session, ticket, now, policy, start)
    session.flush()
    return ticket


def reject(session: Session, number: int, actor: Actor, now: datetime, reason: str, **kw: Any) -> Ticket:
    """退回: not a matter for the grid, or not a real problem."""
    ticket, _ = _move(session, number, Action.REJECT, actor, now, note=reason, **kw)
    ticket.rejected_at = now
    ticket.needs_review = False
    deadlines.stop_all(session, ticket, now)
    return ticket


def reclassify(
    session: Session,
    number: int,
    actor: Actor,
    now: datetime,
    kind: TicketKind,
    category: str,
    category_label: str,
    policy: SLAPolicy | None = None,
) -> Ticket:
    """改类: correct the classifier; the event keeps the text and both labels as training data."""
    ticket = get_ticket(session, number)
    data = {
        "from": {"kind": ticket.kind.value, "category": ticket.category},
        "to": {"kind": kind.value, "category": category},
        "text": ticket.text_masked,
        "message_id": ticket.source_message_id,
    }
    ticket, _ = _move(session, number, Action.RECLASSIFY, actor, now, data=data, announce_it=False)
    changed_kind = ticket.kind is not kind
    ticket.kind, ticket.category, ticket.category_label = kind, category, category_label
    if policy is not None and changed_kind:
        deadlines.reschedule(session, ticket, now, policy, ticket.reopened_at or ticket.created_at)
    return ticket


def reopen(
    session: Session,
    number: int,
    actor: Actor,
    now: datetime,
    policy: SLAPolicy,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """重办: back to in_progress with fresh resolution clocks (a new cycle)."""
    ticket, event = _move(
        session,
        number,
        Action.REOPEN,
        actor,
        now,
        note=reason,
        announce_it=False,
        expected_version=expected_version,
    )
    ticket.cycle += 1
    ticket.reopened_at = now
    ticket.resolved_at = None
    ticket.closed_at = None
    deadlines.restart_for_reopen(session, ticket, now, policy)
    announce(session, ticket, event, now)
    return ticket


def close(session: Session, number: int, actor: Actor, now: datetime, note: str | None = None) -> Ticket:
    """关闭: after a satisfied rating, or when the rating window passed without one."""
    ticket, _ = _move(session, number, Action.CLOSE, actor, now, note=note, announce_it=False)
    ticket.closed_at = now
    deadlines.stop_all(session, ticket, now)
    return ticket


def rate(
    session: Session,
    number: int,
    actor: Actor,
    now: datetime,
    score: RatingScore,
    policy: SLAPolicy,
    comment: str | None = None,
    solved: bool | None = None,
) -> Rating:
    """A reporter rates a resolved ticket within 48 h; 不满意 reopens it (重办).

    `solved` is the answer to the 回访 question 「问题解决了吗」 (None: not answered), kept apart
    from the score: a resident may be satisfied with the service while the problem persists.
    """
    ticket = get_ticket(session, number)
    if not is_reporter(session, ticket, actor.person_id):
        raise PermissionDenied(f"只有反映人可以评价工单 {ticket.number}")
    if ticket.status is not TicketStatus.RESOLVED:
        raise TransitionNotAllowed(f"工单 {ticket.number} 当前不在待评价状态")
    if ticket.resolved_at is not None and now - ticket.resolved_at > RATING_WINDOW:
        raise TransitionNotAllowed(f"工单 {ticket.number} 已超过48小时评价期限")
    rating = Rating(
        ticket_id=ticket.id,
        person_id=actor.person_id,
        cycle=ticket.cycle,
        score=score,
        comment=comment,
        solved=solved,
        created_at=now,
    )
    session.add(rating)
    if score is RatingScore.UNSATISFIED:
        reopen(session, number, actor, now, policy, reason="居民评价不满意")
    else:
        close(session, number, actor, now, note=score.value)
    return rating


def _grid(session: Session, ticket: Ticket) -> Grid:
    grid = session.get(Grid, ticket.grid_id)
    assert grid is not None
    return grid


def ticket_grid(session: Session, ticket: Ticket) -> Grid | None:
    """The grid a ticket belongs to."""
    return session.get(Grid, ticket.grid_id)


def close_unrated(session: Session, now: datetime, actor: Actor, limit: int = 500) -> list[int]:
    """Close resolved tickets whose 48 h rating window passed unrated; returns their numbers."""
    numbers = list(
        session.scalars(
            select(Ticket.id)
            .where(Ticket.status == TicketStatus.RESOLVED, Ticket.resolved_at <= now - RATING_WINDOW)
            .order_by(Ticket.id)
            .limit(limit)
        )
    )
    for number in numbers:
        close(session, number, actor, now, note="评价期满未评价，自动关闭")
    return numbers


def note_similar(session: Session, ticket: Ticket, other: int, score: float, now: datetime) -> None:
    """Record that a new ticket looks like an open one (below the auto-merge threshold)."""
    _event(
        session, ticket, None, "similar", None, None, now, data={"ticket": other, "score": round(score, 3)}
    )


def awaiting_rating(session: Session, person_id: int, grid_id: int, now: datetime) -> list[int]:
    """The person's tickets in this grid resolved within the rating window and not rated yet."""
    return list(
        session.scalars(
            select(Ticket.id)
            .join(TicketReporter, TicketReporter.ticket_id == Ticket.id)
            .where(
                TicketReporter.person_id == person_id,
                Ticket.grid_id == grid_id,
                Ticket.status == TicketStatus.RESOLVED,
                Ticket.resolved_at >= now - RATING_WINDOW,
            )
            .order_by(Ticket.resolved_at.desc())
        )
    )


def open_of_reporters(
    session: Session, person_ids: list[int], grid_id: int, *, unanswered: bool = False
) -> list[Ticket]:
    """Open tickets of this grid that these people reported (unanswered: no first response yet)."""
    query = (
        select(Ticket)
        .join(TicketReporter, TicketReporter.ticket_id == Ticket.id)
        .where(
            TicketReporter.person_id.in_(person_ids),
            Ticket.grid_id == grid_id,
            Ticket.status.in_(OPEN_STATUSES),
        )
        .order_by(Ticket.created_at.desc())
        .distinct()
    )
    if unanswered:
        query = query.where(Ticket.first_response_at.is_(None))
    return list(session.scalars(query))


def work_list(
    session: Session, grid_id: int, person_id: int, page: int, page_size: int
) -> tuple[list[Ticket], int]:
    """A staff member's open tickets and the grid's 待确认 / unassigned ones: one page and the total."""
    mine = (Ticket.assignee_id == person_id) | Ticket.needs_review | Ticket.assignee_id.is_(None)
    where = (Ticket.grid_id == grid_id, Ticket.status.in_(OPEN_STATUSES), mine)
    total = session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    rows = session.scalars(
        select(Ticket)
        .where(*where)
        .order_by(Ticket.needs_review.desc(), Ticket.priority.desc(), Ticket.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), total


def urge(session: Session, ticket: Ticket, person_id: int, now: datetime, message_id: int | None) -> None:
    """催办: a reporter chased this open ticket; recorded as an event (counted, never a new ticket)."""
    _event(session, ticket, person_id, "urge", None, None, now, data={"message_id": message_id})
    session.flush()


def count_by_source(
    session: Session, grid_id: int, source: TicketSource, since: datetime, until: datetime
) -> int:
    """Tickets of the grid from `source` created in [since, until) (主动发现 for patrol)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.grid_id == grid_id,
                Ticket.source == source,
                Ticket.created_at >= since,
                Ticket.created_at < until,
            )
        )
        or 0
    )


def record_unmask(session: Session, number: int, actor: Actor, now: datetime) -> Ticket:
    """Audit a read of a ticket's raw text (the unmask role): an "unmask" event in the ticket's trail."""
    ticket = get_ticket(session, number)
    _event(session, ticket, actor.person_id, "unmask", None, None, now)
    session.flush()
    return ticket


def note_overflow(
    session: Session, ticket: Ticket, message_id: int | None, reason: str, priority: str, now: datetime
) -> None:
    """A report past a fair-use limit, kept on the resident's review item (ids and labels, no text)."""
    data = {"message_id": message_id, "reason": reason, "priority": priority}
    _event(session, ticket, None, OVERFLOW, None, None, now, data=data)
    session.flush()


THREAD = "thread"  # the event linking a remark in an emergency's thread to its ticket


def recent_urgent(session: Session, grid_id: int, since: datetime) -> list[Ticket]:
    """The grid's urgent tickets opened since `since` (open or already closed), newest first."""
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.grid_id == grid_id, Ticket.priority == Priority.URGENT, Ticket.created_at >= since)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        ).all()
    )


def note_thread(session: Session, ticket: Ticket, person_id: int, message_id: int, now: datetime) -> None:
    """A remark about this emergency (「打119了吗」「消防到了」) kept in its trail: never a ticket of its own."""
    _event(session, ticket, person_id, THREAD, None, None, now, data={"message_id": message_id})
    session.flush()

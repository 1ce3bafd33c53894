"""The counting rules, one SQL predicate each, shared by per-grid reports, series and rollups.

"As of the period end" means: using only milestones recorded strictly before `end`, so a past
period's figures do not move when later work is recorded (reopens are the one exception: a
reopened ticket loses its resolved_at, so it stops counting as resolved for every period).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, not_, or_

from gridbot.models.entities import Message, ReminderLog, Ticket, TicketDeadline, TicketEvent
from gridbot.models.enums import WORKER_ROLES, DeadlineKind, MessageDirection, RatingScore, Role, TicketStatus
from gridbot.models.metrics.period import Period

AnySelect = Select[*tuple[Any, ...]]
NOT_RECEIVED = (TicketStatus.MERGED, TicketStatus.REJECTED)
SATISFIED_SCORES = (RatingScore.SATISFIED, RatingScore.BASICALLY_SATISFIED)
REOPEN_ACTION = "reopen"
# 催办: a resident pressing on an open ticket — reporting the same problem again ("report", a duplicate
# merged in) or an explicit urge ("urge")
URGE_ACTIONS = ("report", "urge")
PATROL_SOURCE = "patrol"


def resident_message() -> ColumnElement[bool]:
    """An inbound message whose sender was a resident when it was sent."""
    return and_(Message.direction == MessageDirection.INBOUND, Message.sender_role == Role.RESIDENT)


def worker_message() -> ColumnElement[bool]:
    """An inbound message from a gridworker, part-time gridworker or grid leader (not the bot)."""
    return and_(Message.direction == MessageDirection.INBOUND, Message.sender_role.in_(sorted(WORKER_ROLES)))


def received(period: Period) -> ColumnElement[bool]:
    """受理量: created in the period and neither merged into another ticket nor rejected (无效/退回)."""
    return and_(period.contains(Ticket.created_at), Ticket.status.not_in(NOT_RECEIVED))


def responded(end: datetime) -> ColumnElement[bool]:
    """First response (接单, reply or @-reply) recorded before `end`."""
    return and_(Ticket.first_response_at.is_not(None), Ticket.first_response_at < end)


def response_due(end: datetime) -> ColumnElement[bool]:
    """Decided by `end` for the first-response rates: answered, or its first-response deadline passed.

    The "not yet due" rule: an unanswered ticket whose first (cycle 0) first-response deadline is
    still ahead at `end` is neither on time nor late yet, so it is left out of 回复率, 首次响应及时率
    and 及时签收率 everywhere (统计, API, dashboard, bulletin). A ticket with no such deadline is due.
    """
    pending = exists().where(
        TicketDeadline.ticket_id == Ticket.id,
        TicketDeadline.kind == DeadlineKind.FIRST_RESPONSE,
        TicketDeadline.cycle == 0,
        TicketDeadline.due_at >= end,
    )
    return or_(responded(end), not_(pending))


def accepted_on_time(end: datetime) -> ColumnElement[bool]:
    """及时签收: 接单 (accepted_at) recorded before `end` and no later than the first-response deadline."""
    return and_(
        Ticket.accepted_at.is_not(None),
        Ticket.accepted_at < end,
        exists().where(
            TicketDeadline.ticket_id == Ticket.id,
            TicketDeadline.kind == DeadlineKind.FIRST_RESPONSE,
            TicketDeadline.cycle == 0,
            Ticket.accepted_at <= TicketDeadline.due_at,
        ),
    )


def patrol() -> ColumnElement[bool]:
    """主动发现: filed by staff from a patrol (source "patrol"), not reported by a resident."""
    return Ticket.source == PATROL_SOURCE


def urged(end: datetime) -> ColumnElement[bool]:
    """催办: residents pressed on it (a repeated report or an explicit urge) before `end`."""
    return exists().where(
        TicketEvent.ticket_id == Ticket.id, TicketEvent.action.in_(URGE_ACTIONS), TicketEvent.at < end
    )


def _deadline_met(kind: DeadlineKind, cycle: Any, end: datetime) -> ColumnElement[bool]:
    return exists().where(
        TicketDeadline.ticket_id == Ticket.id,
        TicketDeadline.kind == kind,
        TicketDeadline.cycle == cycle,
        TicketDeadline.met_at.is_not(None),
        TicketDeadline.met_at <= TicketDeadline.due_at,
        TicketDeadline.met_at < end,
    )


def responded_on_time(end: datetime) -> ColumnElement[bool]:
    """The first cycle's (cycle 0) first-response deadline met by its due time, before `end`."""
    return _deadline_met(DeadlineKind.FIRST_RESPONSE, 0, end)


def resolved(end: datetime) -> ColumnElement[bool]:
    """办结: status resolved or closed, with the 办结 (or, lacking it, closing) time before `end`."""
    return and_(
        Ticket.status.in_((TicketStatus.RESOLVED, TicketStatus.CLOSED)),
        func.coalesce(Ticket.resolved_at, Ticket.closed_at) < end,
    )


def resolved_on_time(end: datetime) -> ColumnElement[bool]:
    """按期办结: resolved, and the LAST cycle's (the ticket's current cycle) resolution deadline met in time."""
    return and_(resolved(end), _deadline_met(DeadlineKind.RESOLUTION, Ticket.cycle, end))


def reopened(end: datetime) -> ColumnElement[bool]:
    """重办: at least one 'reopen' event (a 不满意 rating) before `end`."""
    return exists().where(
        TicketEvent.ticket_id == Ticket.id, TicketEvent.action == REOPEN_ACTION, TicketEvent.at < end
    )


def resolved_once(end: datetime) -> ColumnElement[bool]:
    """Resolved at least once before `end`: resolved now, or reopened (only a resolved ticket reopens)."""
    return or_(resolved(end), reopened(end))


def escalated() -> ColumnElement[bool]:
    """督办: escalated at least one level beyond the assignee (escalation_level > 0: a level logged)."""
    return exists().where(ReminderLog.ticket_id == Ticket.id)


def overdue_at(end: datetime) -> ColumnElement[bool]:
    """Still unresolved at `end` with a resolution deadline (any cycle) due before `end`, clock not paused.

    Excludes merged tickets and tickets rejected before `end`; a deadline met at or after `end` was
    still overdue at `end`. A paused (挂起) clock is not overdue.
    """
    late_deadline = exists().where(
        TicketDeadline.ticket_id == Ticket.id,
        TicketDeadline.kind == DeadlineKind.RESOLUTION,
        TicketDeadline.due_at < end,
        or_(TicketDeadline.met_at.is_(None), TicketDeadline.met_at >= end),
        or_(TicketDeadline.paused_at.is_(None), TicketDeadline.paused_at >= end),
    )
    return and_(
        Ticket.created_at < end,
        Ticket.status != TicketStatus.MERGED,
        # a rejected ticket without a rejection time counts as rejected long ago
        or_(Ticket.status != TicketStatus.REJECTED, Ticket.rejected_at >= end),
        not_(resolved(end)),
        late_deadline,
    )


def rejected(period: Period) -> ColumnElement[bool]:
    """无效/退回: created in the period and rejected (counted apart from 受理量)."""
    return and_(period.contains(Ticket.created_at), Ticket.status == TicketStatus.REJECTED)


def merged(period: Period) -> ColumnElement[bool]:
    """已合并: created in the period and merged into another ticket (its reporter joined the target)."""
    return and_(period.contains(Ticket.created_at), Ticket.status == TicketStatus.MERGED)


def count_where(cond: ColumnElement[bool]) -> ColumnElement[int]:
    """SQL aggregate: how many rows of the group satisfy `cond` (portable, no FILTER clause)."""
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

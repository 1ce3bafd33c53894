"""Daily (Asia/Shanghai) counts over a scope, for activity charts and bulletins."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from gridbot.models.entities import Message, Rating, Ticket
from gridbot.models.metrics import rules
from gridbot.models.metrics.period import Period, Scope, as_date, local_date
from gridbot.models.metrics.rules import AnySelect, count_where


@dataclass(frozen=True)
class DailyCounts:
    """One local day of a scope: messages, active residents, tickets received and resolved, ratings.

    Each count uses the same rule as GridMetrics, bucketed by the local day of its own timestamp:
    messages and active residents by sent_at, received and rejected by created_at, resolved by
    resolved_at (tickets resolved that day, whenever created), rated and satisfied by the rating time.
    """

    day: date
    resident_messages: int = 0
    worker_messages: int = 0
    active_residents: int = 0
    received: int = 0
    rejected: int = 0
    resolved: int = 0
    rated: int = 0
    satisfied: int = 0


def _message_days(scope: Scope, period: Period) -> AnySelect:
    resident = rules.resident_message()
    day = local_date(Message.sent_at)
    return (
        select(
            day.label("day"),
            count_where(resident).label("resident_messages"),
            count_where(rules.worker_message()).label("worker_messages"),
            func.count(distinct(case((resident, Message.sender_id)))).label("active_residents"),
        )
        .where(period.contains(Message.sent_at), scope.contains(Message.grid_id))
        .group_by(day)
    )


def _created_days(scope: Scope, period: Period) -> AnySelect:
    day = local_date(Ticket.created_at)
    return (
        select(
            day.label("day"),
            count_where(rules.received(period)).label("received"),
            count_where(rules.rejected(period)).label("rejected"),
        )
        .where(period.contains(Ticket.created_at), scope.contains(Ticket.grid_id))
        .group_by(day)
    )


def _resolved_days(scope: Scope, period: Period) -> AnySelect:
    day = local_date(Ticket.resolved_at)
    return (
        select(day.label("day"), func.count().label("resolved"))
        .where(
            period.contains(Ticket.resolved_at),
            rules.resolved(period.end),
            scope.contains(Ticket.grid_id),
        )
        .group_by(day)
    )


def _rating_days(scope: Scope, period: Period) -> AnySelect:
    day = local_date(Rating.created_at)
    return (
        select(
            day.label("day"),
            func.count().label("rated"),
            count_where(Rating.score.in_(rules.SATISFIED_SCORES)).label("satisfied"),
        )
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .where(and_(period.contains(Rating.created_at), scope.contains(Ticket.grid_id)))
        .group_by(day)
    )


def daily_series(session: Session, scope: Scope, period: Period) -> list[DailyCounts]:
    """One DailyCounts per local day the period touches, zero-filled, in order."""
    values: dict[date, dict[str, int]] = {d: {} for d in period.days()}
    for stmt in (
        _message_days(scope, period),
        _created_days(scope, period),
        _resolved_days(scope, period),
        _rating_days(scope, period),
    ):
        for row in session.execute(stmt).mappings():
            day = as_date(row["day"])
            values[day].update({k: int(v) for k, v in row.items() if k != "day"})
    names = {f.name for f in fields(DailyCounts)}
    return [
        DailyCounts(day=d, **{k: v for k, v in counts.items() if k in names}) for d, counts in values.items()
    ]

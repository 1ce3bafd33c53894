"""Per-grid and scope-total metrics for a period, computed with SQL aggregates grouped by grid."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from gridbot.models.entities import ChatGroup, Grid, MemberSnapshot, Message, Rating, Ticket
from gridbot.models.metrics import rules
from gridbot.models.metrics.period import Period, Scope
from gridbot.models.metrics.report import LOWER_IS_BETTER, RATE_KEYS, GridMetrics, ScopeMetrics, percentile
from gridbot.models.metrics.rules import AnySelect, count_where

_NOT_SUMMED = {"grid_id", "grid_code", "grid_name", "first_response_median_s", "first_response_p90_s"}
RANK_KEYS = frozenset(
    {f.name for f in fields(GridMetrics) if f.name not in {"grid_id", "grid_code", "grid_name"}}
    | set(RATE_KEYS)
)


def message_counts(scope: Scope, period: Period) -> AnySelect:
    """Per grid: resident messages, worker messages, distinct active residents."""
    resident = rules.resident_message()
    return (
        select(
            Message.grid_id,
            count_where(resident).label("resident_messages"),
            count_where(rules.worker_message()).label("worker_messages"),
            func.count(distinct(case((resident, Message.sender_id)))).label("active_residents"),
        )
        .where(period.contains(Message.sent_at), scope.contains(Message.grid_id))
        .group_by(Message.grid_id)
    )


def active_residents_total(scope: Scope, period: Period) -> AnySelect:
    """Distinct residents who wrote in any grid of the scope (one person in two grids counts once)."""
    return select(func.count(distinct(Message.sender_id))).where(
        rules.resident_message(), period.contains(Message.sent_at), scope.contains(Message.grid_id)
    )


def ticket_counts(scope: Scope, period: Period) -> AnySelect:
    """Per grid: the cohort of tickets created in the period, counted by each rule."""
    end = period.end
    got = rules.received(period)
    return (
        select(
            Ticket.grid_id,
            count_where(got).label("received"),
            count_where(and_(got, rules.responded(end))).label("responded"),
            count_where(and_(got, rules.responded_on_time(end))).label("responded_on_time"),
            count_where(and_(got, rules.resolved(end))).label("resolved"),
            count_where(and_(got, rules.resolved_on_time(end))).label("resolved_on_time"),
            count_where(and_(got, rules.resolved_once(end))).label("resolved_once"),
            count_where(and_(got, rules.reopened(end))).label("reopened"),
            count_where(and_(got, rules.escalated())).label("escalated"),
            count_where(rules.rejected(period)).label("rejected"),
            count_where(rules.merged(period)).label("merged"),
        )
        .where(period.contains(Ticket.created_at), scope.contains(Ticket.grid_id))
        .group_by(Ticket.grid_id)
    )


def overdue_counts(scope: Scope, period: Period) -> AnySelect:
    """Per grid: tickets overdue at the period end, whenever they were created."""
    return (
        select(Ticket.grid_id, func.count().label("overdue"))
        .where(scope.contains(Ticket.grid_id), rules.overdue_at(period.end))
        .group_by(Ticket.grid_id)
    )


def rating_counts(scope: Scope, period: Period) -> AnySelect:
    """Per grid: ratings made in the period, and how many were 满意 or 基本满意."""
    return (
        select(
            Ticket.grid_id,
            func.count().label("rated"),
            count_where(Rating.score.in_(rules.SATISFIED_SCORES)).label("satisfied"),
        )
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .where(period.contains(Rating.created_at), scope.contains(Ticket.grid_id))
        .group_by(Ticket.grid_id)
    )


def member_counts(scope: Scope, period: Period) -> AnySelect:
    """Per grid: the sum over its groups of each group's latest member snapshot taken before the end."""
    latest = (
        select(
            MemberSnapshot.group_id,
            MemberSnapshot.member_count,
            func.row_number()
            .over(
                partition_by=MemberSnapshot.group_id,
                order_by=(MemberSnapshot.taken_at.desc(), MemberSnapshot.id.desc()),
            )
            .label("rn"),
        )
        .where(MemberSnapshot.taken_at < period.end)
        .subquery()
    )
    return (
        select(ChatGroup.grid_id, func.sum(latest.c.member_count).label("members"))
        .join(latest, latest.c.group_id == ChatGroup.id)
        .where(latest.c.rn == 1, scope.contains(ChatGroup.grid_id))
        .group_by(ChatGroup.grid_id)
    )


def response_durations(scope: Scope, period: Period) -> AnySelect:
    """Rows (grid id, created_at, first_response_at) of the received tickets that got a first response."""
    return select(Ticket.grid_id, Ticket.created_at, Ticket.first_response_at).where(
        scope.contains(Ticket.grid_id), rules.received(period), rules.responded(period.end)
    )


def scope_metrics(session: Session, scope: Scope, period: Period) -> ScopeMetrics:
    """Every grid's metrics for the period, idle grids included, and the scope total."""
    grids = session.execute(
        select(Grid.id, Grid.code, Grid.name, Grid.households).where(scope.grid_condition()).order_by(Grid.id)
    ).all()
    values: dict[int, dict[str, Any]] = {g.id: {} for g in grids}
    for stmt in (
        message_counts(scope, period),
        ticket_counts(scope, period),
        overdue_counts(scope, period),
        rating_counts(scope, period),
        member_counts(scope, period),
    ):
        for row in session.execute(stmt).mappings():
            if row["grid_id"] in values:
                values[row["grid_id"]].update({k: int(v) for k, v in row.items() if k != "grid_id"})
    durations: dict[int, list[float]] = defaultdict(list)
    for grid_id, created, first in session.execute(response_durations(scope, period)):
        durations[grid_id].append((first - created).total_seconds())
    per_grid = tuple(
        GridMetrics(
            grid_id=g.id,
            grid_code=g.code,
            grid_name=g.name,
            households=g.households,
            first_response_median_s=percentile(durations[g.id], 0.5),
            first_response_p90_s=percentile(durations[g.id], 0.9),
            **values[g.id],
        )
        for g in grids
    )
    everything = [d for ds in durations.values() for d in ds]
    total = replace(
        _summed(per_grid),
        active_residents=int(session.scalar(active_residents_total(scope, period)) or 0),
        first_response_median_s=percentile(everything, 0.5),
        first_response_p90_s=percentile(everything, 0.9),
    )
    return ScopeMetrics(grids=per_grid, total=total)


def _summed(grids: Iterable[GridMetrics]) -> GridMetrics:
    sums: dict[str, int] = defaultdict(int)
    for g in grids:
        for f in fields(GridMetrics):
            if f.name not in _NOT_SUMMED:
                sums[f.name] += getattr(g, f.name)
    return GridMetrics(grid_id=None, grid_code="", grid_name="合计", **sums)


def grid_metrics(session: Session, grid_id: int, period: Period) -> GridMetrics:
    """One grid's metrics for the period."""
    return scope_metrics(session, Scope.grids(grid_id), period).by_grid(grid_id)


def rank_grids(
    session: Session, scope: Scope, period: Period, key: str
) -> list[tuple[int | None, GridMetrics]]:
    """The scope's grids best first by `key` (a GridMetrics field or rate), ties sharing a rank.

    Lower is better for response times, 重办率, overdue, escalated and rejected; higher otherwise.
    Grids whose value is None (nothing to measure) come last with rank None.
    """
    if key not in RANK_KEYS:
        raise ValueError(f"unknown metric {key!r}; one of {sorted(RANK_KEYS)}")
    sign = 1 if key in LOWER_IS_BETTER else -1
    grids = scope_metrics(session, scope, period).grids
    measured = sorted(
        (g for g in grids if getattr(g, key) is not None), key=lambda g: (sign * getattr(g, key), g.grid_code)
    )
    ranked: list[tuple[int | None, GridMetrics]] = []
    for i, g in enumerate(measured):
        same = i > 0 and getattr(g, key) == getattr(measured[i - 1], key)
        ranked.append((ranked[-1][0] if same else i + 1, g))
    ranked.extend((None, g) for g in grids if getattr(g, key) is None)
    return ranked

"""What the metric endpoints and the dashboard show: reports, rankings, series and overdue lists.

Everything but the overdue list reads the rollups (models.rollup_read); the assessment score of
each row comes from models.assessment under the configured 考核办法.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridbot.models.entities import Grid, Region, RollupCohort, RollupDay, Ticket, TicketDeadline
from gridbot.models.enums import DeadlineKind
from gridbot.models.metrics import rules
from gridbot.models.metrics.assessment import Assessment, Method, score, total
from gridbot.models.metrics.period import as_date
from gridbot.models.metrics.queries import RANK_KEYS
from gridbot.models.metrics.report import LOWER_IS_BETTER, RATE_KEYS
from gridbot.models.metrics.rollup_read import (
    ACTIVITY_KEY,
    Node,
    NodeReport,
    children,
    grid_count,
    grid_node,
    grid_reports,
    grids_under,
    region_node,
    reports,
    with_percentiles,
)
from gridbot.models.metrics.rollups import GRID

INDICATOR_KEYS = frozenset({*RATE_KEYS, ACTIVITY_KEY})
RANKABLE = frozenset({*RANK_KEYS, ACTIVITY_KEY, "active_resident_days", "score"} - {"active_residents"})


@dataclass(frozen=True)
class ScopeView:
    """A node's total with its assessment, its children, and a page of its grids."""

    node: Node
    first: date
    last: date
    total: NodeReport
    assessment: Assessment
    children: list[NodeReport]
    grids: list[NodeReport]
    grid_count: int
    exact_percentiles: bool


def find_node(session: Session, region_id: int | None, grid_id: int | None) -> Node | None:
    """The grid or region asked for (None when it does not exist)."""
    if grid_id is not None:
        grid = session.get(Grid, grid_id)
        return grid_node(grid) if grid else None
    region = session.get(Region, region_id)
    return region_node(region) if region else None


def assess(report: NodeReport, method: Method) -> Assessment:
    """The report's assessment under the method."""
    return score({k: report.value(k) for k in INDICATOR_KEYS}, method)


def scope_view(
    session: Session, node: Node, first: date, last: date, method: Method, offset: int = 0, limit: int = 50
) -> ScopeView:
    """The report a /metrics call returns."""
    [total] = reports(session, [node], first, last)
    kids = children(session, node)
    kid_reports = reports(session, kids, first, last) if kids and kids[0].level != GRID else []
    grids = reports(session, grids_under(session, node, offset, limit), first, last)
    items = [total, *kid_reports, *grids]
    exact = with_percentiles(session, node, items, first, last)
    total, kid_reports, grids = items[0], items[1 : 1 + len(kid_reports)], items[1 + len(kid_reports) :]
    return ScopeView(
        node, first, last, total, assess(total, method), kid_reports, grids, grid_count(session, node), exact
    )


def ranking(
    session: Session, node: Node, key: str, first: date, last: date, method: Method, of: str = "grids"
) -> list[tuple[int | None, NodeReport, float | None]]:
    """Grids (or child regions) of a node best first by `key`; ties share a rank, unmeasured last."""
    if key not in RANKABLE:
        raise ValueError(f"unknown metric {key!r}; one of {sorted(RANKABLE)}")
    items = (
        grid_reports(session, node, first, last)
        if of == "grids"
        else reports(session, children(session, node), first, last)
    )
    if key in ("first_response_median_s", "first_response_p90_s"):
        with_percentiles(session, node, items, first, last)

    def value(r: NodeReport) -> float | None:
        if key == "score":  # a grid without cases (无案件) is not ranked by score: neither first nor last
            return (
                total({i.key: r.value(i.key) for i in method.indicators}, method)
                if r.metrics.has_cases
                else None
            )
        return r.value(key)

    valued = [(value(r), r) for r in items]
    sign = 1 if key in LOWER_IS_BETTER else -1
    measured = sorted(
        ((v, r) for v, r in valued if v is not None), key=lambda vr: (sign * vr[0], vr[1].node.code)
    )
    out: list[tuple[int | None, NodeReport, float | None]] = []
    for i, (v, r) in enumerate(measured):
        rank = out[-1][0] if i and v == measured[i - 1][0] else i + 1
        out.append((rank, r, v))
    out.extend((None, r, None) for v, r in valued if v is None)
    return out


def series(session: Session, node: Node, first: date, last: date) -> list[dict[str, Any]]:
    """One row per local day: the day's flows, received/rejected by creation, resolved that day, stocks."""
    d, c = RollupDay, RollupCohort
    days: dict[date, dict[str, Any]] = {}
    cur = first
    while cur <= last:
        days[cur] = {"day": cur}
        cur = date.fromordinal(cur.toordinal() + 1)
    cols = (
        "resident_messages",
        "worker_messages",
        "active_residents",
        "rated",
        "satisfied",
        "overdue",
        "members",
    )
    where = (d.level == node.level, d.node_id == node.id, d.day.between(first, last))
    for row in session.execute(select(d.day, *(getattr(d, k) for k in cols)).where(*where)).mappings():
        days[as_date(row["day"])].update({k: row[k] for k in cols})
    by = (c.level == node.level, c.node_id == node.id)
    created = (
        select(c.created_day, func.sum(c.received), func.sum(c.rejected))
        .where(*by, c.created_day.between(first, last))
        .group_by(c.created_day)
    )
    for day, received, rejected in session.execute(created):
        days[as_date(day)].update(received=int(received), rejected=int(rejected))
    done = (
        select(c.done_day, func.sum(c.resolved))
        .where(*by, c.done_day.between(first, last))
        .group_by(c.done_day)
    )
    for day, resolved in session.execute(done):
        days[as_date(day)]["resolved"] = int(resolved)
    keys = (*cols, "received", "rejected", "resolved")
    return [{k: v.get(k, 0) for k in ("day", *keys)} | {"day": v["day"]} for v in days.values()]


def overdue_tickets(session: Session, node: Node, now: datetime, limit: int = 50) -> list[dict[str, Any]]:
    """Tickets of the node's scope overdue now (rules.overdue_at), longest overdue first."""
    scope_cond = (
        Grid.id == node.id if node.level == GRID else Grid.region_path.startswith(node.path, autoescape=True)
    )
    due = (
        select(func.min(TicketDeadline.due_at))
        .where(
            TicketDeadline.ticket_id == Ticket.id,
            TicketDeadline.kind == DeadlineKind.RESOLUTION,
            TicketDeadline.met_at.is_(None),
        )
        .scalar_subquery()
    )
    stmt = (
        select(
            Ticket.id,
            Ticket.category_label,
            Ticket.status,
            Ticket.created_at,
            Ticket.escalation_level,
            Grid.name,
            due.label("due_at"),
        )
        .join(Grid, Grid.id == Ticket.grid_id)
        .where(scope_cond, rules.overdue_at(now))
        .order_by(due.asc().nulls_last(), Ticket.id)
        .limit(limit)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]

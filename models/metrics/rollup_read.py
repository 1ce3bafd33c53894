"""Metrics for any node (grid or region) and whole-day period, read from the rollups only.

Sums are of counts; rates are the GridMetrics properties over the summed counts (never averaged
daily rates). Two figures cannot be summed and are handled as documented in docs/metrics-api.md:
  * distinct active residents over a period: the rollups keep daily distinct counts, so a period
    reports `active_resident_days` (person-days) and the daily average, not a period-distinct count;
  * first-response median / p90: computed exactly on demand from the tickets (not the messages)
    when the scope has at most PERCENTILE_MAX_GRIDS grids, otherwise omitted (None).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gridbot.models.entities import Grid, Region
from gridbot.models.entities.rollup import (
    COHORT_COUNTS,
    DAY_FLOWS,
    DAY_STOCKS,
    RollupCohort,
    RollupDay,
    RollupGeneration,
)
from gridbot.models.enums import RegionLevel
from gridbot.models.metrics import GridMetrics, Period, Scope
from gridbot.models.metrics import queries as q
from gridbot.models.metrics.report import percentile, ratio
from gridbot.models.metrics.rollups import GRID

PERCENTILE_MAX_GRIDS = 2000
ACTIVITY_KEY = "active_residents_per_100_households"
_CHILD = {
    RegionLevel.CITY: RegionLevel.DISTRICT,
    RegionLevel.DISTRICT: RegionLevel.STREET,
    RegionLevel.STREET: RegionLevel.COMMUNITY,
}


@dataclass(frozen=True)
class Node:
    """A grid or a region: what a report is about. `path` is the region path scoping its grids."""

    level: str
    id: int
    code: str
    name: str
    path: str


@dataclass(frozen=True)
class NodeReport:
    """A node's summed counts for a period (`metrics.active_residents` is left 0: see the module doc)."""

    node: Node
    metrics: GridMetrics
    active_resident_days: int
    days: int

    @property
    def avg_daily_active_residents(self) -> float:
        """Distinct active residents per day, averaged over the period's days."""
        return self.active_resident_days / self.days if self.days else 0.0

    @property
    def active_per_100_households(self) -> float | None:
        """Average daily active residents per 100 households (None without households)."""
        r = ratio(self.active_resident_days, self.days * self.metrics.households)
        return None if r is None else 100 * r

    def value(self, key: str) -> float | None:
        """A metric or rate by name (GridMetrics fields and rates, or the activity figure)."""
        if key == ACTIVITY_KEY:
            return self.active_per_100_households
        if key == "active_resident_days":
            return float(self.active_resident_days)
        v = getattr(self.metrics, key)
        return None if v is None else float(v)


def region_node(region: Region) -> Node:
    """A region as a report node."""
    return Node(region.level.value, region.id, region.code, region.name, region.path)


def grid_node(grid: Grid) -> Node:
    """A grid as a report node."""
    return Node(GRID, grid.id, grid.code, grid.name, grid.region_path)


def node_counts(
    session: Session, level: str, ids: Collection[int] | Select[Any], first: date, last: date
) -> dict[int, dict[str, int]]:
    """Summed rollup counts per node id of one level over the local days [first, last]."""
    ids_arg: Any = sorted(ids) if isinstance(ids, Collection) else ids
    out: dict[int, dict[str, int]] = defaultdict(dict)
    d, c = RollupDay, RollupCohort
    for stmt in (
        select(d.node_id, *(func.sum(getattr(d, k)).label(k) for k in DAY_FLOWS))
        .where(d.level == level, d.node_id.in_(ids_arg), d.day.between(first, last))
        .group_by(d.node_id),
        select(d.node_id, *(getattr(d, k) for k in DAY_STOCKS)).where(
            d.level == level, d.node_id.in_(ids_arg), d.day == last
        ),
        select(c.node_id, *(func.sum(getattr(c, k)).label(k) for k in COHORT_COUNTS))
        .where(
            c.level == level, c.node_id.in_(ids_arg), c.created_day.between(first, last), c.done_day <= last
        )
        .group_by(c.node_id),
    ):
        for row in session.execute(stmt).mappings():
            out[row["node_id"]].update({k: int(v or 0) for k, v in row.items() if k != "node_id"})
    return out


def _report(node: Node, counts: dict[str, int], days: int) -> NodeReport:
    values = {"households": 0, **counts}  # a node with no rollup rows in range has no household stock row
    active_days = values.pop("active_residents", 0)
    metrics = GridMetrics(
        grid_id=node.id if node.level == GRID else None, grid_code=node.code, grid_name=node.name, **values
    )
    return NodeReport(node, metrics, active_days, days)


def reports(
    session: Session, nodes: list[Node], first: date, last: date, ids: Select[Any] | None = None
) -> list[NodeReport]:
    """Reports of nodes (all of one level) for [first, last], in the given order.

    `ids`, a SELECT of the same node ids, replaces a long IN list (a city's 12,990 grids as bound
    parameters cost seconds to send and parse).
    """
    if not nodes:
        return []
    counts = node_counts(session, nodes[0].level, [n.id for n in nodes] if ids is None else ids, first, last)
    days = (last - first).days + 1
    return [_report(n, counts.get(n.id, {}), days) for n in nodes]


def children(session: Session, node: Node) -> list[Node]:
    """The nodes one level below: child regions, or the grids of a community (none below a grid)."""
    if node.level == GRID:
        return []
    if node.level == RegionLevel.COMMUNITY.value:
        grids = session.scalars(select(Grid).where(Grid.community_id == node.id).order_by(Grid.code))
        return [grid_node(g) for g in grids]
    regions = session.scalars(select(Region).where(Region.parent_id == node.id).order_by(Region.code))
    return [region_node(r) for r in regions]


def grids_under(session: Session, node: Node, offset: int = 0, limit: int | None = None) -> list[Node]:
    """The grids of a node's scope by code (a page of them with offset/limit)."""
    g = Grid
    stmt = (
        select(g.id, g.code, g.name, g.region_path)
        .where(_scope(node).grid_condition())
        .order_by(g.code)
        .offset(offset)
        .limit(limit)
    )
    return [Node(GRID, i, code, name, path) for i, code, name, path in session.execute(stmt)]


def grid_reports(session: Session, node: Node, first: date, last: date) -> list[NodeReport]:
    """Reports of every grid of a node's scope, by code (the ids read by a subquery, not a list)."""
    ids = select(Grid.id).where(_scope(node).grid_condition())
    return reports(session, grids_under(session, node), first, last, ids=ids)


def generation(session: Session) -> int:
    """A number that grows whenever rollup rows are written (database triggers bump it; 0 before any write)."""
    return int(session.scalar(select(RollupGeneration.value).where(RollupGeneration.name == "rollups")) or 0)


def grid_count(session: Session, node: Node) -> int:
    """How many grids the node's scope holds."""
    return int(session.scalar(select(func.count(Grid.id)).where(_scope(node).grid_condition())) or 0)


def _scope(node: Node) -> Scope:
    return Scope.grids(node.id) if node.level == GRID else Scope.region(node.path)


def with_percentiles(
    session: Session, scope_node: Node, items: list[NodeReport], first: date, last: date
) -> bool:
    """Fill first-response median/p90 on demand when the scope is small enough; True when filled."""
    if grid_count(session, scope_node) > PERCENTILE_MAX_GRIDS:
        return False
    period = Period.local_days(first, last)
    by_grid: dict[int, list[float]] = defaultdict(list)
    for grid_id, created, first_response in session.execute(q.response_durations(_scope(scope_node), period)):
        by_grid[grid_id].append((first_response - created).total_seconds())
    grid_paths = select(Grid.id, Grid.region_path).where(_scope(scope_node).grid_condition())
    paths = {g: p for g, p in session.execute(grid_paths)}
    for i, item in enumerate(items):
        node = item.node
        if node.level == GRID:
            values = by_grid.get(node.id, [])
        else:
            values = [v for g, vs in by_grid.items() if paths.get(g, "").startswith(node.path) for v in vs]
        m = replace(
            item.metrics,
            first_response_median_s=percentile(values, 0.5),
            first_response_p90_s=percentile(values, 0.9),
        )
        items[i] = replace(item, metrics=m)
    return True

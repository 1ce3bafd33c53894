"""Metrics, rankings, daily series and the overdue list of a region or grid, from the rollups."""

from __future__ import annotations

import os
from datetime import date, timedelta
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from gridbot.api.auth import PrincipalDep, require_scope
from gridbot.api.deps import SessionDep
from gridbot.api.errors import WITH_NOT_FOUND, invalid, not_found
from gridbot.api.metric_schemas import (
    DayOut,
    MetricsOut,
    OverdueOut,
    RankingOut,
    RankRow,
    SeriesOut,
    assessment_out,
    node_out,
    row,
)
from gridbot.api.params import GridRef, RegionRef
from gridbot.models.entities import utcnow
from gridbot.models.metrics import views as views
from gridbot.models.metrics.assessment import Method, load_method
from gridbot.models.metrics.rollup_read import Node
from gridbot.models.metrics.rollups import local_today
from gridbot.models.org.org_view import grid_id_by_ref, region_id_by_ref
from gridbot.models.org.tokens import TokenPrincipal

router = APIRouter(prefix="/metrics", tags=["metrics"], responses=WITH_NOT_FOUND)
MAX_DAYS = 366
ASSESSMENT_ENV = "GRIDBOT_ASSESSMENT_FILE"

RegionQ = RegionRef
GridQ = GridRef
FromQ = Annotated[
    date | None, Query(alias="from", description="First local day (default: 29 days before `to`).")
]
ToQ = Annotated[date | None, Query(alias="to", description="Last local day (default: today, Asia/Shanghai).")]


@lru_cache(maxsize=1)
def assessment_method() -> Method:
    """The 考核办法 in force: $GRIDBOT_ASSESSMENT_FILE, or the packaged default."""
    return load_method(os.environ.get(ASSESSMENT_ENV) or None, known=views.INDICATOR_KEYS)


def _period(first: date | None, last: date | None) -> tuple[date, date]:
    last = last or local_today()
    first = first or last - timedelta(days=29)
    if first > last or (last - first).days >= MAX_DAYS:
        raise invalid("from", f"日期范围无效：from 不晚于 to，且不超过 {MAX_DAYS} 天")
    return first, last


def _node(session: Session, principal: TokenPrincipal, region: str | None, grid: str | None) -> Node:
    region_id = region_id_by_ref(session, region) if region else None
    grid_id = grid_id_by_ref(session, grid) if grid else None
    if (region and region_id is None) or (grid and grid_id is None):
        raise not_found("该网格" if grid else "该区域")
    node = views.find_node(session, region_id if region_id or grid_id else principal.region_id, grid_id)
    if node is None:
        raise not_found("该网格" if grid else "该区域")
    require_scope(principal, node.path)
    return node


@router.get("/report", response_model=MetricsOut, summary="Metrics of a region or grid for a period")
def metrics(
    principal: PrincipalDep,
    session: SessionDep,
    region: RegionQ = None,
    grid: GridQ = None,
    date_from: FromQ = None,
    date_to: ToQ = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=0, le=500, description="Grids per page.")] = 50,
) -> MetricsOut:
    """The scope's total with its assessment score, each child region, and a page of its grids."""
    node = _node(session, principal, region, grid)
    first, last = _period(date_from, date_to)
    method = assessment_method()
    v = views.scope_view(session, node, first, last, method, offset, limit)
    return MetricsOut(
        node=node_out(node),
        date_from=first,
        date_to=last,
        days=(last - first).days + 1,
        percentiles="exact" if v.exact_percentiles else "omitted",
        method=method.name,
        total=row(v.total, v.assessment.score),
        assessment=assessment_out(v.assessment),
        children=[row(r, views.assess(r, method).score) for r in v.children],
        grids=[row(r, views.assess(r, method).score) for r in v.grids],
        grid_count=v.grid_count,
        offset=offset,
        limit=limit,
    )


@router.get("/ranking", response_model=RankingOut, summary="Grids or child regions ranked by a metric")
def ranking(
    principal: PrincipalDep,
    session: SessionDep,
    key: Annotated[str, Query(max_length=64, description="A metric, a rate, or `score`.")] = "score",
    of: Literal["grids", "children"] = "grids",
    region: RegionQ = None,
    date_from: FromQ = None,
    date_to: ToQ = None,
    limit: Annotated[int, Query(ge=1, le=20_000)] = 100,
) -> RankingOut:
    """Best first; ties share a rank; grids with nothing to measure come last with rank null."""
    node = _node(session, principal, region, None)
    first, last = _period(date_from, date_to)
    if key not in views.RANKABLE:
        raise invalid("key", f"未知指标 {key}")
    ranked = views.ranking(session, node, key, first, last, assessment_method(), of)
    rows = [RankRow(rank=rank, node=node_out(r.node), value=v) for rank, r, v in ranked[:limit]]
    return RankingOut(
        node=node_out(node),
        key=key,
        of=of,
        date_from=first,
        date_to=last,
        rows=rows,
    )


@router.get("/series", response_model=SeriesOut, summary="Daily time series of a region or grid")
def series(
    principal: PrincipalDep,
    session: SessionDep,
    region: RegionQ = None,
    grid: GridQ = None,
    date_from: FromQ = None,
    date_to: ToQ = None,
) -> SeriesOut:
    """Messages, active residents, tickets received/resolved, ratings, overdue and members per day."""
    node = _node(session, principal, region, grid)
    first, last = _period(date_from, date_to)
    days = [DayOut(**d) for d in views.series(session, node, first, last)]
    return SeriesOut(node=node_out(node), days=days)


@router.get("/overdue", response_model=list[OverdueOut], summary="Tickets overdue now")
def overdue(
    principal: PrincipalDep,
    session: SessionDep,
    region: RegionQ = None,
    grid: GridQ = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[OverdueOut]:
    """Unresolved tickets past their resolution deadline, longest overdue first (no resident text)."""
    node = _node(session, principal, region, grid)
    return [
        OverdueOut(
            number=t["id"],
            category=t["category_label"],
            status=str(t["status"]),
            grid=t["name"],
            created_at=t["created_at"],
            due_at=t["due_at"],
            escalation_level=t["escalation_level"],
        )
        for t in views.overdue_tickets(session, node, utcnow(), limit)
    ]

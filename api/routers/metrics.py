"""Metrics, rankings, daily series and the overdue list of a region or grid, from the rollups."""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from gridbot.api.auth import PrincipalDep
from gridbot.api.deps import Services, ServicesDep, SessionDep
from gridbot.api.errors import WITH_NOT_FOUND, invalid
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
from gridbot.api.scoping import DaysDep, InRegionDep, WhereDep
from gridbot.models.entities import utcnow
from gridbot.models.metrics import Scope
from gridbot.models.metrics import views as views
from gridbot.models.metrics.assessment import Method, load_method
from gridbot.models.metrics.definitions import DEFINITIONS
from gridbot.models.metrics.quality import quality_checks
from gridbot.models.metrics.rollup_read import Node, NodeReport

router = APIRouter(prefix="/metrics", tags=["metrics"], responses=WITH_NOT_FOUND)
ASSESSMENT_ENV = "GRIDBOT_ASSESSMENT_FILE"


@lru_cache(maxsize=1)
def assessment_method() -> Method:
    """The 考核办法 in force: $GRIDBOT_ASSESSMENT_FILE, or the packaged default."""
    return load_method(os.environ.get(ASSESSMENT_ENV) or None, known=views.INDICATOR_KEYS)


def cached_ranking(
    session: Session, services: Services, node: Node, key: str, first: date, last: date, of: str
) -> list[tuple[int | None, NodeReport, float | None]]:
    """views.ranking under the 考核办法 in force, cached until the rollups change."""
    return services.results.get(
        session,
        ("ranking", node.level, node.id, key, first, last, of),
        lambda: views.ranking(session, node, key, first, last, assessment_method(), of),
    )


@router.get("/report", response_model=MetricsOut, summary="Metrics of a region or grid for a period")
def metrics(
    session: SessionDep,
    services: ServicesDep,
    where: WhereDep,
    days: DaysDep,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=0, le=500, description="Grids per page.")] = 50,
) -> MetricsOut:
    """The scope's total with its assessment score, each child region, and a page of its grids."""
    node, first, last = where.node, days.first, days.last
    method = assessment_method()
    v = services.results.get(
        session,
        ("report", node.level, node.id, first, last, offset, limit),
        lambda: views.scope_view(session, node, first, last, method, offset, limit),
    )
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
    session: SessionDep,
    services: ServicesDep,
    where: InRegionDep,
    days: DaysDep,
    key: Annotated[str, Query(max_length=64, description="A metric, a rate, or `score`.")] = "score",
    of: Literal["grids", "children"] = "grids",
    limit: Annotated[int, Query(ge=1, le=20_000)] = 100,
) -> RankingOut:
    """Best first; ties share a rank; grids with nothing to measure come last with rank null."""
    node, first, last = where.node, days.first, days.last
    if key not in views.RANKABLE:
        raise invalid("key", f"未知指标 {key}")
    method = assessment_method()
    ranked = cached_ranking(session, services, node, key, first, last, of)
    rows = []
    for rank, r, v in ranked[:limit]:
        extra: dict[str, Any] = {"no_cases": not r.metrics.has_cases}
        if key == "score":
            a = assessment_out(views.assess(r, method))
            extra |= {"parts": a.parts, "note": a.note}
        rows.append(RankRow(rank=rank, node=node_out(r.node), value=v, **extra))
    return RankingOut(
        node=node_out(node),
        key=key,
        of=of,
        date_from=first,
        date_to=last,
        rows=rows,
    )


@router.get("/series", response_model=SeriesOut, summary="Daily time series of a region or grid")
def series(session: SessionDep, services: ServicesDep, where: WhereDep, days: DaysDep) -> SeriesOut:
    """Messages, active residents, tickets received/resolved, ratings, overdue and members per day."""
    node = where.node
    found = services.results.get(
        session,
        ("series", node.level, node.id, days.first, days.last),
        lambda: views.series(session, node, days.first, days.last),
    )
    rows = [DayOut(**d) for d in found]
    return SeriesOut(node=node_out(where.node), days=rows)


@router.get("/overdue", response_model=list[OverdueOut], summary="Tickets overdue now")
def overdue(
    session: SessionDep, where: WhereDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[OverdueOut]:
    """Unresolved tickets past their resolution deadline, longest overdue first (no resident text)."""
    node = where.node
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


class DefinitionOut(BaseModel):
    """An indicator's Chinese label and definition, and its weight under the 考核办法 in force."""

    key: str
    label: str
    definition: str
    lower_is_better: bool
    is_rate: bool
    weight: float | None
    target: float | None
    floor: float | None


class DefinitionsOut(BaseModel):
    """GET /metrics/definitions."""

    method: str
    missing: str
    total_weight: float
    indicators: list[DefinitionOut]


@router.get(
    "/definitions", response_model=DefinitionsOut, summary="What each indicator means, and its weight"
)
def definitions(_principal: PrincipalDep) -> DefinitionsOut:
    """The definitions shown on the dashboard's KPI cards and the 考核办法's weights and targets."""
    method = assessment_method()
    weights = {i.key: i for i in method.indicators}
    out = []
    for d in DEFINITIONS.values():
        ind = weights.get(d.key)
        out.append(
            DefinitionOut(
                key=d.key,
                label=d.label,
                definition=d.definition,
                lower_is_better=d.lower_is_better,
                is_rate=d.is_rate,
                weight=ind.weight if ind else None,
                target=ind.target if ind else None,
                floor=ind.floor if ind else None,
            )
        )
    return DefinitionsOut(
        method=method.name,
        missing=method.missing,
        total_weight=sum(i.weight for i in method.indicators),
        indicators=out,
    )


class CheckOut(BaseModel):
    """One data-quality self-check."""

    key: str
    label: str
    ok: bool
    problems: int
    detail: str
    fix: str


@router.get("/quality", response_model=list[CheckOut], summary="Data-quality self-check of a region or grid")
def quality(session: SessionDep, where: WhereDep) -> list[CheckOut]:
    """Tickets without category / first-response record / SLA clock, grids without households, stale rollups."""
    node = where.node
    scope = Scope.grids(node.id) if node.level == "grid" else Scope.region(node.path)
    return [
        CheckOut(key=c.key, label=c.label, ok=c.ok, problems=c.problems, detail=c.detail, fix=c.fix)
        for c in quality_checks(session, scope, node.level, node.id, utcnow())
    ]

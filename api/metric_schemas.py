"""Response models of the metric, ranking and series endpoints."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from gridbot.models.metrics.assessment import Assessment
from gridbot.models.metrics.report import RATE_KEYS
from gridbot.models.metrics.rollup_read import Node, NodeReport


class NodeOut(BaseModel):
    """A grid or region."""

    level: str
    id: int
    code: str
    name: str


class PartOut(BaseModel):
    """One indicator of an assessment."""

    key: str
    label: str
    value: float | None
    weight: float
    points: float | None


class AssessmentOut(BaseModel):
    """A composite score 0–100 (null when nothing could be measured) with its breakdown."""

    score: float | None
    parts: list[PartOut]


class MetricsRow(BaseModel):
    """A node's counts and rates for the period (see docs/metrics-api.md for each figure)."""

    node: NodeOut
    households: int
    members: int
    resident_messages: int
    worker_messages: int
    active_resident_days: int
    avg_daily_active_residents: float
    active_residents_per_100_households: float | None
    received: int
    responded: int
    responded_on_time: int
    first_response_median_s: float | None
    first_response_p90_s: float | None
    resolved: int
    resolved_on_time: int
    resolved_once: int
    reopened: int
    rated: int
    satisfied: int
    overdue: int
    escalated: int
    rejected: int
    merged: int
    response_rate: float | None
    first_response_on_time_rate: float | None
    resolution_rate: float | None
    on_time_resolution_rate: float | None
    satisfaction_rate: float | None
    reopen_rate: float | None
    membership_rate: float | None
    score: float | None = None


class MetricsOut(BaseModel):
    """GET /metrics: the scope's total with its assessment, its children and a page of its grids."""

    node: NodeOut
    date_from: date
    date_to: date
    days: int
    percentiles: str
    method: str
    total: MetricsRow
    assessment: AssessmentOut
    children: list[MetricsRow]
    grids: list[MetricsRow]
    grid_count: int
    offset: int
    limit: int


class RankRow(BaseModel):
    """One ranked grid or region."""

    rank: int | None
    node: NodeOut
    value: float | None


class RankingOut(BaseModel):
    """GET /metrics/ranking."""

    node: NodeOut
    key: str
    of: str
    date_from: date
    date_to: date
    rows: list[RankRow]


class DayOut(BaseModel):
    """One local day of a node."""

    day: date
    resident_messages: int
    worker_messages: int
    active_residents: int
    received: int
    rejected: int
    resolved: int
    rated: int
    satisfied: int
    overdue: int
    members: int


class SeriesOut(BaseModel):
    """GET /metrics/series."""

    node: NodeOut
    days: list[DayOut]


class OverdueOut(BaseModel):
    """An overdue ticket (no resident text: category and grid only)."""

    number: int
    category: str
    status: str
    grid: str
    created_at: datetime
    due_at: datetime | None
    escalation_level: int


def node_out(n: Node) -> NodeOut:
    """A node as a response body."""
    return NodeOut(level=n.level, id=n.id, code=n.code, name=n.name)


def row(r: NodeReport, score: float | None = None) -> MetricsRow:
    """A report as a response row."""
    m = r.metrics
    counts = {k: getattr(m, k) for k in MetricsRow.model_fields if hasattr(m, k) and k not in RATE_KEYS}
    rates = {k: getattr(m, k) for k in RATE_KEYS}
    return MetricsRow(
        node=node_out(r.node),
        active_resident_days=r.active_resident_days,
        avg_daily_active_residents=round(r.avg_daily_active_residents, 3),
        active_residents_per_100_households=r.active_per_100_households,
        score=score,
        **counts,
        **rates,
    )


def assessment_out(a: Assessment) -> AssessmentOut:
    """An assessment as a response body."""
    return AssessmentOut(
        score=a.score,
        parts=[
            PartOut(key=p.key, label=p.label, value=p.value, weight=p.weight, points=p.points)
            for p in a.parts
        ],
    )

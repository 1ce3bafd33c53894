"""Online-governance metrics: per grid and per scope (community, street, district, city), any period.

Every rule is one SQL predicate in `models.metrics.rules`; `queries` groups them by grid, `series`
by local day. Periods are half-open [start, end) in UTC; figures use only what was recorded before
the period end, so a past month's bulletin does not change when later work is recorded.
"""

from gridbot.models.metrics.period import LOCAL_TZ, Period, Scope
from gridbot.models.metrics.queries import RANK_KEYS, grid_metrics, rank_grids, scope_metrics
from gridbot.models.metrics.report import GridMetrics, ScopeMetrics
from gridbot.models.metrics.series import DailyCounts, daily_series

__all__ = [
    "LOCAL_TZ",
    "RANK_KEYS",
    "DailyCounts",
    "GridMetrics",
    "Period",
    "Scope",
    "ScopeMetrics",
    "daily_series",
    "grid_metrics",
    "rank_grids",
    "scope_metrics",
]

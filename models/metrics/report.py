"""Typed results: the counts measured for one grid (or a whole scope) and the rates derived from them."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, floor


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile with linear interpolation (PostgreSQL percentile_cont); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo, hi = floor(pos), ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class GridMetrics:
    """One grid's figures for a period; `grid_id` is None for the total of a scope.

    Counts (ticket counts are over tickets created in the period unless stated; milestones count
    only when recorded before the period end):
      resident_messages / worker_messages: inbound messages sent in the period by residents /
        by gridworkers, part-time gridworkers and grid leaders (role at the time of sending).
      active_residents: distinct residents who sent at least one message in the period.
      received (受理量): tickets created in the period, excluding merged and rejected.
      responded: received tickets with a first response.
      responded_on_time: received tickets whose first-cycle first-response deadline was met in time.
      first_response_median_s / first_response_p90_s: first_response_at - created_at in calendar
        seconds over the responded tickets (linear interpolation as percentile_cont), None if none.
      resolved: received tickets now resolved or closed (办结).
      resolved_on_time: resolved tickets whose last cycle's resolution deadline was met in time.
      resolved_once: received tickets resolved at least once (resolved now, or reopened).
      reopened: received tickets reopened (重办) at least once.
      rated / satisfied: ratings made in the period / of them 满意 or 基本满意.
      overdue: tickets (any creation date) unresolved at the period end past a resolution deadline.
      escalated: received tickets with escalation_level > 0 (督办).
      rejected / merged: tickets created in the period that were rejected / merged (not received).
      members: sum over the grid's groups of each group's latest member snapshot before the end.
      households: the grid's household count (summed for a scope).
    """

    grid_id: int | None
    grid_code: str
    grid_name: str
    households: int
    resident_messages: int = 0
    worker_messages: int = 0
    active_residents: int = 0
    received: int = 0
    responded: int = 0
    responded_on_time: int = 0
    first_response_median_s: float | None = None
    first_response_p90_s: float | None = None
    resolved: int = 0
    resolved_on_time: int = 0
    resolved_once: int = 0
    reopened: int = 0
    rated: int = 0
    satisfied: int = 0
    overdue: int = 0
    escalated: int = 0
    rejected: int = 0
    merged: int = 0
    members: int = 0

    @property
    def response_rate(self) -> float | None:
        """回复率 = responded / received."""
        return ratio(self.responded, self.received)

    @property
    def first_response_on_time_rate(self) -> float | None:
        """首次响应及时率 = responded_on_time / received (an unanswered ticket counts as late)."""
        return ratio(self.responded_on_time, self.received)

    @property
    def resolution_rate(self) -> float | None:
        """办结率 = resolved / received."""
        return ratio(self.resolved, self.received)

    @property
    def on_time_resolution_rate(self) -> float | None:
        """按期办结率 = resolved_on_time / received."""
        return ratio(self.resolved_on_time, self.received)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率 = (满意 + 基本满意) / rated, over ratings made in the period."""
        return ratio(self.satisfied, self.rated)

    @property
    def reopen_rate(self) -> float | None:
        """重办率 = reopened / resolved_once."""
        return ratio(self.reopened, self.resolved_once)

    @property
    def membership_rate(self) -> float | None:
        """入群率 = members / households; None without households (may exceed 1: several per household)."""
        return ratio(self.members, self.households)


RATE_KEYS = (
    "response_rate",
    "first_response_on_time_rate",
    "resolution_rate",
    "on_time_resolution_rate",
    "satisfaction_rate",
    "reopen_rate",
    "membership_rate",
)
LOWER_IS_BETTER = frozenset(
    {"first_response_median_s", "first_response_p90_s", "reopen_rate", "overdue", "escalated", "rejected"}
)


@dataclass(frozen=True)
class ScopeMetrics:
    """A scope's report for a period: every grid of the scope (idle ones included) and their total."""

    grids: tuple[GridMetrics, ...]
    total: GridMetrics

    def by_grid(self, grid_id: int) -> GridMetrics:
        """The figures of one grid of the scope."""
        for g in self.grids:
            if g.grid_id == grid_id:
                return g
        raise KeyError(grid_id)

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
      response_due: received tickets decided for the first-response rates by the end: answered, or
        their first-response deadline passed (the "not yet due" rule, rules.response_due).
      accepted_on_time: received tickets signed for (接单) by their first-response deadline (及时签收).
      patrol: received tickets found by staff on patrol (主动发现).
      urged: received tickets residents pressed on (催办: a repeated report or an urge).
      solved_answered / solved: ratings of the period whose 回访 question 「问题解决了吗」 was answered
        / answered yes.
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
    response_due: int = 0
    accepted_on_time: int = 0
    patrol: int = 0
    urged: int = 0
    solved_answered: int = 0
    solved: int = 0
    members: int = 0

    @property
    def response_rate(self) -> float | None:
        """回复率 = responded / response_due (tickets not yet due and unanswered are left out)."""
        return ratio(self.responded, self.response_due)

    @property
    def first_response_on_time_rate(self) -> float | None:
        """首次响应及时率 = responded_on_time / response_due (an unanswered ticket past its deadline is late)."""
        return ratio(self.responded_on_time, self.response_due)

    @property
    def on_time_signing_rate(self) -> float | None:
        """及时签收率 = accepted_on_time / response_due (接单 by the first-response deadline)."""
        return ratio(self.accepted_on_time, self.response_due)

    @property
    def return_rate(self) -> float | None:
        """回退率 = rejected / (received + rejected): tickets sent back (退回/无效) among those filed."""
        return ratio(self.rejected, self.received + self.rejected)

    @property
    def solve_rate(self) -> float | None:
        """解决率 = solved / solved_answered: 「问题解决了吗」 answered yes at 回访 (apart from 满意率)."""
        return ratio(self.solved, self.solved_answered)

    @property
    def patrol_rate(self) -> float | None:
        """主动发现率 = patrol / received: tickets staff found on patrol."""
        return ratio(self.patrol, self.received)

    @property
    def urge_rate(self) -> float | None:
        """催办率 = urged / received: tickets residents had to press on."""
        return ratio(self.urged, self.received)

    @property
    def has_cases(self) -> bool:
        """Whether there was anything to handle: tickets filed (received or rejected) or ratings made."""
        return bool(self.received or self.rejected or self.rated)

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
    def members_per_household(self) -> float | None:
        """入群人数/户数 as counted (may exceed 1: several members of one household join)."""
        return ratio(self.members, self.households)

    @property
    def membership_rate(self) -> float | None:
        """入群率 = min(members, households) / households, capped at 100 %; None without households.

        Group member lists do not say which household a member belongs to, so households with a
        member cannot be counted exactly; members per household is the measurable proxy, capped so
        that five members of one household do not make up for four households outside the group.
        """
        return ratio(min(self.members, self.households), self.households)


RATE_KEYS = (
    "response_rate",
    "first_response_on_time_rate",
    "on_time_signing_rate",
    "resolution_rate",
    "on_time_resolution_rate",
    "solve_rate",
    "satisfaction_rate",
    "reopen_rate",
    "return_rate",
    "patrol_rate",
    "urge_rate",
    "membership_rate",
    "members_per_household",
)
LOWER_IS_BETTER = frozenset(
    {
        "first_response_median_s",
        "first_response_p90_s",
        "reopen_rate",
        "return_rate",
        "urge_rate",
        "overdue",
        "escalated",
        "rejected",
        "urged",
    }
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

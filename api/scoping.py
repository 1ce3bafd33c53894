"""Where and when a metric or dashboard call looks: `?region=`/`?grid=` and `?from=`/`?to=` as dependencies.

`Where` resolves the node (404 when unknown, 403 outside the caller's region) before anything else
runs; `Days` checks the local-day range (422 when reversed or longer than MAX_DAYS). The metric and
dashboard routers declare them once instead of repeating the four query parameters per endpoint.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy.orm import Session

from gridbot.api.auth import PrincipalDep, require_scope
from gridbot.api.deps import SessionDep
from gridbot.api.errors import invalid, not_found
from gridbot.api.params import GridRef, RegionRef
from gridbot.models.metrics import Period
from gridbot.models.metrics import views as views
from gridbot.models.metrics.rollup_read import Node
from gridbot.models.metrics.rollups import local_today
from gridbot.models.org.org_view import grid_id_by_ref, region_id_by_ref
from gridbot.models.org.tokens import TokenPrincipal

MAX_DAYS = 366
# bounded so that day arithmetic (to + 1 day, the first of the month) can never overflow: 422, not 500
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
FromQ = Annotated[
    date | None,
    Query(
        alias="from", ge=FIRST_DAY, le=LAST_DAY, description="First local day (default: 29 days before `to`)."
    ),
]
ToQ = Annotated[
    date | None,
    Query(
        alias="to", ge=FIRST_DAY, le=LAST_DAY, description="Last local day (default: today, Asia/Shanghai)."
    ),
]


def day_range(first: date | None, last: date | None) -> tuple[date, date]:
    """The whole local days asked for, defaulting to the 30 days up to today; 422 when unusable."""
    last = last or local_today()
    first = first or last - timedelta(days=29)
    if first > last or (last - first).days >= MAX_DAYS:
        raise invalid("from", f"日期范围无效：from 不晚于 to，且不超过 {MAX_DAYS} 天")
    return first, last


def resolve_node(session: Session, principal: TokenPrincipal, region: str | None, grid: str | None) -> Node:
    """The grid or region asked for (default: the caller's region), within the caller's scope."""
    region_id = region_id_by_ref(session, region) if region else None
    grid_id = grid_id_by_ref(session, grid) if grid else None
    if (region and region_id is None) or (grid and grid_id is None):
        raise not_found("该网格" if grid else "该区域")
    node = views.find_node(session, region_id if region_id or grid_id else principal.region_id, grid_id)
    if node is None:
        raise not_found("该网格" if grid else "该区域")
    require_scope(principal, node.path)
    return node


class Where:
    """`?region=` or `?grid=` (code or id) resolved to a node the caller may see."""

    def __init__(
        self, principal: PrincipalDep, session: SessionDep, region: RegionRef = None, grid: GridRef = None
    ) -> None:
        self.node = resolve_node(session, principal, region, grid)

    @property
    def grid_id(self) -> int | None:
        """The grid's id when a grid was asked for."""
        return self.node.id if self.node.level == "grid" else None


class InRegion(Where):
    """`?region=` only: for rankings and maps, which list the grids or children of a region."""

    def __init__(self, principal: PrincipalDep, session: SessionDep, region: RegionRef = None) -> None:
        super().__init__(principal, session, region, None)


class Days:
    """`?from=` and `?to=`: whole local days, both ends included."""

    def __init__(self, date_from: FromQ = None, date_to: ToQ = None) -> None:
        self.first, self.last = day_range(date_from, date_to)

    @property
    def period(self) -> Period:
        """The days as a half-open UTC interval."""
        return Period.local_days(self.first, self.last)


WhereDep = Annotated[Where, Depends()]
InRegionDep = Annotated[InRegion, Depends()]
DaysDep = Annotated[Days, Depends()]

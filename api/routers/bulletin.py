"""GET /bulletin: the monthly bulletin of a street or district as JSON, CSV or XLSX."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from gridbot.api.auth import PrincipalDep, require_scope
from gridbot.api.deps import SessionDep
from gridbot.api.errors import WITH_NOT_FOUND, invalid, not_found
from gridbot.api.params import REF_PATTERN
from gridbot.models.entities import Region
from gridbot.models.metrics.bulletin import monthly_bulletin, to_csv, to_xlsx
from gridbot.models.org.org_view import region_id_by_ref

router = APIRouter(tags=["metrics"], responses=WITH_NOT_FOUND)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/bulletin", summary="Monthly bulletin (月度通报) of a street or district")
def bulletin(
    principal: PrincipalDep,
    session: SessionDep,
    region: Annotated[
        str, Query(max_length=32, pattern=REF_PATTERN, description="A street or district code or id.")
    ],
    month: Annotated[str, Query(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    format: Literal["json", "csv", "xlsx"] = "json",  # noqa: A002 - the public parameter name
) -> Any:
    """回复率 / 办结率 / 满意率 per community with a ranking (by the mean of the three rates)."""
    region_id = region_id_by_ref(session, region)
    found = session.get(Region, region_id) if region_id is not None else None
    if found is None:
        raise not_found("该区域")
    require_scope(principal, found.path)
    try:
        b = monthly_bulletin(session, found, month)
    except ValueError as exc:
        raise invalid("region", str(exc)) from None
    name = f"bulletin-{found.code}-{month}"
    if format == "csv":
        return Response(
            to_csv(b),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "xlsx":
        return Response(
            to_xlsx(b),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return {"region": asdict(b.region), "month": b.month, "rows": [asdict(r) for r in b.rows]}

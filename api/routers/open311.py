"""Open311 GeoReport v2 style read API: services.json and requests.json of the caller's city.

The category → service-code mapping comes from the exchange file (per city). Authentication is the
same bearer token as the rest of the API; requests are limited to the token's region subtree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from gridbot.api.auth import PrincipalDep
from gridbot.api.deps import SessionDep
from gridbot.api.errors import ERROR_RESPONSES, ErrorOut, invalid, not_found
from gridbot.api.exchange_deps import ConfigDep, city_of_principal
from gridbot.api.schemas import DB_INT_MAX
from gridbot.models.exchange import open311
from gridbot.nlp.pii import mask

router = APIRouter(prefix="/open311/v2", tags=["open311"], responses=ERROR_RESPONSES)
Jurisdiction = Annotated[
    str | None, Query(max_length=100, description="must name the caller's city when given")
]
Stamp = Annotated[datetime | None, Query(description="ISO 8601 with offset")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "no city configured"}}


def _city(
    session: SessionDep, config: ConfigDep, principal: PrincipalDep, jurisdiction_id: str | None
) -> Any:
    _, city = city_of_principal(session, config, principal)
    if jurisdiction_id is not None and jurisdiction_id != city.jurisdiction_id:
        raise not_found(f"辖区 {jurisdiction_id}")
    return city


@router.get("/services.json", responses=NOT_FOUND)
def services(
    principal: PrincipalDep, session: SessionDep, config: ConfigDep, jurisdiction_id: Jurisdiction = None
) -> list[dict[str, Any]]:
    """The city's service list (service_code, service_name, group…)."""
    return open311.services(_city(session, config, principal, jurisdiction_id))


@router.get("/requests.json", responses=NOT_FOUND)
def requests(
    principal: PrincipalDep,
    session: SessionDep,
    config: ConfigDep,
    jurisdiction_id: Jurisdiction = None,
    service_request_id: Annotated[
        str | None, Query(max_length=2000, pattern=r"^\d{1,10}(,\d{1,10})*$", description="comma-separated")
    ] = None,
    service_code: Annotated[
        str | None, Query(max_length=500, pattern=r"^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$")
    ] = None,
    start_date: Stamp = None,
    end_date: Stamp = None,
    status: Literal["open", "closed"] | None = None,
) -> list[dict[str, Any]]:
    """Service requests (tickets) of the caller's region, newest first, at most 1000."""
    city = _city(session, config, principal, jurisdiction_id)
    for name, value in (("start_date", start_date), ("end_date", end_date)):
        if value is not None and value.tzinfo is None:
            raise invalid(name, "needs a UTC offset, e.g. 2026-03-10T00:00:00+08:00")
    if start_date and end_date and start_date > end_date:
        raise invalid("start_date", "start_date must not be after end_date")
    ids = (
        tuple(int(i) for i in service_request_id.split(",") if int(i) <= DB_INT_MAX)
        if service_request_id
        else ()
    )
    query = open311.RequestQuery(
        scope_path=principal.region_path,
        request_ids=ids,
        service_codes=tuple(service_code.split(",")) if service_code else (),
        status=status,
        start=start_date,
        end=end_date,
    )
    return open311.requests(session, config, city, query, mask)


@router.get("/requests/{request_id}.json", responses=NOT_FOUND)
def request(
    request_id: Annotated[int, Path(ge=1, le=DB_INT_MAX)],
    principal: PrincipalDep,
    session: SessionDep,
    config: ConfigDep,
    jurisdiction_id: Jurisdiction = None,
) -> list[dict[str, Any]]:
    """One service request, as a one-element list (as GeoReport v2 does)."""
    city = _city(session, config, principal, jurisdiction_id)
    query = open311.RequestQuery(scope_path=principal.region_path, request_ids=(request_id,))
    found = open311.requests(session, config, city, query, mask)
    if not found:
        raise not_found(f"服务请求 {request_id}")
    return found

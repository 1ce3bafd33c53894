"""The organisation import as an API call, limited to the token's region."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gridbot.api.auth import PrincipalDep
from gridbot.api.deps import Services, ServicesDep
from gridbot.api.errors import ERROR_RESPONSES, ApiError, ErrorOut
from gridbot.models.entities import Region
from gridbot.models.org.directory import DirectoryError
from gridbot.models.org.grid_position import GeoImportError, import_geo
from gridbot.models.org.org_import import ImportReport, OrgImportError, import_org
from gridbot.models.org.org_sheet import read_xlsx

router = APIRouter(prefix="/org", tags=["organisation"], responses=ERROR_RESPONSES)
MAX_SHEET_BYTES = 5 * 1024 * 1024
MAX_GEO_BYTES = 50 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportOut(BaseModel):
    """What the import did (or would do, with dry_run)."""

    dry_run: bool
    summary: str
    changes: list[str]


class SheetErrorOut(BaseModel):
    """One bad cell."""

    sheet: str
    row: int
    column: str
    message: str


class ImportErrorOut(ErrorOut):
    """A refused sheet: nothing was written; every bad cell is listed."""

    errors: list[SheetErrorOut]


@router.post(
    "/import",
    response_model=ImportOut,
    responses={
        413: {"model": ErrorOut},
        422: {"model": ImportErrorOut, "description": "the sheet has errors; nothing was written"},
    },
    openapi_extra={"requestBody": {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def import_sheet(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    dry_run: Annotated[bool, Query(description="Report what would change; write nothing.")] = False,
) -> ImportOut | JSONResponse:
    """Import an organisation workbook (.xlsx body: sheets 区域/网格/人员) within the token's region."""
    body = await _body(request, MAX_SHEET_BYTES, "表格")
    try:
        report = await anyio.to_thread.run_sync(_apply, services, bytes(body), principal.region_id, dry_run)
    except OrgImportError as exc:
        errors = [
            SheetErrorOut(sheet=e.sheet, row=e.row, column=e.column, message=e.message) for e in exc.errors
        ]
        out = ImportErrorOut(detail=exc.user_message, code="sheet_invalid", errors=errors)
        return JSONResponse(out.model_dump(), status_code=422)
    except DirectoryError as exc:
        out = ImportErrorOut(detail=exc.user_message, code="sheet_unreadable", errors=[])
        return JSONResponse(out.model_dump(), status_code=422)
    return ImportOut(dry_run=dry_run, summary=report.summary(), changes=report.changes)


async def _body(request: Request, limit: int, what: str) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "too_large", f"{what}超过 {limit // 1024 // 1024} MB")
    return bytes(body)


class FeatureErrorOut(BaseModel):
    """One bad feature of the GeoJSON file (number counts from 1; 0: the file as a whole)."""

    feature: int
    field: str
    message: str


class GeoImportErrorOut(ErrorOut):
    """A refused GeoJSON file: nothing was written; every bad feature is listed."""

    errors: list[FeatureErrorOut]


@router.post(
    "/import-geo",
    response_model=ImportOut,
    responses={
        413: {"model": ErrorOut},
        422: {"model": GeoImportErrorOut, "description": "the file has errors; nothing was written"},
    },
    openapi_extra={"requestBody": {"content": {"application/geo+json": {"schema": {"type": "object"}}}}},
)
async def import_geometry(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    dry_run: Annotated[bool, Query(description="Report what would change; write nothing.")] = False,
) -> ImportOut | JSONResponse:
    """Grid outlines for the map: a GeoJSON FeatureCollection whose features name their grid by 编码."""
    body = await _body(request, MAX_GEO_BYTES, "GeoJSON 文件")

    def apply() -> ImportOut:
        with services.sessions() as session:
            report = import_geo(session, body, "GeoJSON", scope=session.get(Region, principal.region_id))
            if dry_run:
                session.rollback()
            else:
                session.commit()
        return ImportOut(dry_run=dry_run, summary=report.summary(), changes=report.changes)

    try:
        return await anyio.to_thread.run_sync(apply)
    except GeoImportError as exc:
        errors = [FeatureErrorOut(feature=e.number, field=e.field, message=e.message) for e in exc.errors]
        out = GeoImportErrorOut(detail=exc.user_message, code="geojson_invalid", errors=errors)
        return JSONResponse(out.model_dump(), status_code=422)


def _apply(services: Services, data: bytes, region_id: int, dry_run: bool) -> ImportReport:
    """Read and apply the workbook in one transaction (rolled back for a dry run or an error)."""
    tables = read_xlsx(data)
    with services.sessions() as session:
        report = import_org(session, tables, scope=session.get(Region, region_id))
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return report

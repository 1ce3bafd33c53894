"""The officials' dashboard: the page, its bundled assets (no CDN), and the JSON it reads beyond /metrics.

Data endpoints (same auth as the API: the sign-in cookie or a bearer token; region-scoped):
  /dashboard/api/overview   category distribution and hot issues
  /dashboard/api/tickets    the ticket list with filters (status, category, priority, grid, overdue,
                            催办, 重办), as JSON pages or a CSV download
  /dashboard/api/tickets/N  one ticket with its full trail, messages and ratings
  /dashboard/api/workers    per-gridworker performance
  /dashboard/api/overdue    overdue tickets with 责任人, 超期时长 and escalation level
  /dashboard/api/map        grids with a centre point or GeoJSON geometry, valued by a chosen KPI
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from gridbot.api.auth import PrincipalDep, require_grid
from gridbot.api.deps import ServicesDep, SessionDep
from gridbot.api.errors import WITH_NOT_FOUND, invalid, not_found
from gridbot.api.routers.metrics import cached_ranking
from gridbot.api.scoping import Days, DaysDep, InRegionDep, WhereDep
from gridbot.models.entities import Region, Ticket, utcnow
from gridbot.models.enums import STATUS_LABELS, Priority, TicketStatus
from gridbot.models.metrics import board
from gridbot.models.metrics import views as views
from gridbot.models.metrics.rollup_read import grid_count

router = APIRouter(tags=["dashboard"])
api = APIRouter(prefix="/dashboard/api", tags=["dashboard"], responses=WITH_NOT_FOUND)
STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = {
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
    "work.js": "text/javascript",
    "work.css": "text/css",
    "vendor/echarts.min.js": "text/javascript",
    "vendor/echarts.LICENSE.txt": "text/plain",
}
PAGES = {"dashboard": "dashboard.html", "work": "work.html"}
CACHE = "public, max-age=3600"
MAP_OUTLINES_MAX = 2000
StatusQ = Annotated[list[TicketStatus] | None, Query(description="Any of these statuses.")]


@lru_cache(maxsize=16)
def _compressed(name: str) -> bytes:
    return gzip.compress((STATIC / name).read_bytes(), compresslevel=9, mtime=0)


def _static(request: Request, name: str, media_type: str, cache: str | None = CACHE) -> Response:
    """A bundled file, gzip-compressed when the browser accepts it (ECharts is 1 MB raw, ~340 kB gzipped)."""
    headers = {"Vary": "Accept-Encoding"}
    if cache:
        headers["Cache-Control"] = cache
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(_compressed(name), media_type=media_type, headers=headers)
    return FileResponse(STATIC / name, media_type=media_type, headers=headers)


@router.get("/dashboard", include_in_schema=False)
def dashboard(request: Request) -> Response:
    """The page; it signs in with a form (token → cookie) and reads the JSON endpoints."""
    return _static(request, PAGES["dashboard"], "text/html; charset=utf-8", cache="no-cache")


@router.get("/dashboard/assets/{name:path}", include_in_schema=False)
def asset(name: str, request: Request) -> Response:
    """A bundled script or style sheet (only the listed files)."""
    if name not in ASSETS:
        raise not_found("该文件")
    return _static(request, name, ASSETS[name])


@api.get("/overview", summary="Category distribution and hot issues")
def overview(session: SessionDep, where: WhereDep, days: DaysDep) -> dict[str, Any]:
    """Received tickets per category over the period; rising categories and busiest grids of the period's last 7 days."""
    node, first, last, period = where.node, days.first, days.last, days.period
    if node.level == "grid":
        cats = board.category_counts(session, node.path, period, grid_id=node.id)
        hot: dict[str, Any] = {"rising": [], "places": []}
    else:
        cats = board.category_counts(session, node.path, period)
        hot = board.hot_issues(session, node.path, min(utcnow(), period.end))
    return {
        "date_from": first,
        "date_to": last,
        "categories": [{"category": c, "count": n} for c, n in cats],
        **hot,
    }


CSV_COLUMNS = (
    ("number", "工单号"),
    ("created_at", "创建时间"),
    ("grid", "网格"),
    ("category", "类别"),
    ("priority_label", "紧急程度"),
    ("status_label", "状态"),
    ("assignee", "责任人"),
    ("due_at", "应办结"),
    ("overdue_h", "超期（小时）"),
    ("escalation_level", "督办级别"),
    ("urged", "催办"),
    ("reopened", "重办"),
    ("text", "内容（已脱敏）"),
)


@api.get(
    "/tickets",
    summary="Tickets with filters, as JSON pages or CSV",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}, "description": "a page, or CSV"}},
)
def tickets(
    session: SessionDep,
    where: WhereDep,
    status: StatusQ = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    priority: Priority | None = None,
    overdue: bool | None = None,
    urged: bool | None = None,
    reopened: bool | None = None,
    needs_review: bool | None = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=board.MAX_PAGE)] = 50,
    format: Literal["json", "csv"] = "json",  # noqa: A002 - the public parameter name
) -> Any:
    """Newest first; dates are local days of creation (both ends included); csv: every match up to 10,000."""
    node = where.node
    period = Days(date_from, date_to).period if date_from or date_to else None
    q = board.TicketQuery(
        statuses=tuple(status or ()),
        category=category or None,
        priority=priority,
        grid_id=node.id if node.level == "grid" else None,
        overdue=overdue,
        urged=urged,
        reopened=reopened,
        needs_review=needs_review,
        period=period,
    )
    path = node.path
    now = utcnow()
    if format == "csv":
        rows: list[dict[str, Any]] = []
        off = 0
        while len(rows) < 10_000:
            _, page = board.ticket_rows(session, path, q, now, off, board.MAX_PAGE)
            rows.extend(page)
            off += board.MAX_PAGE
            if len(page) < board.MAX_PAGE:
                break
        return _csv(rows, f"tickets-{node.code}.csv")
    total, page = board.ticket_rows(session, path, q, now, offset, limit)
    return {"total": total, "offset": offset, "limit": limit, "items": page}


def _csv(rows: list[dict[str, Any]], filename: str) -> Response:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([label for _, label in CSV_COLUMNS])
    for r in rows:
        r = {**r, "overdue_h": round(r["overdue_s"] / 3600, 1) if r["overdue_s"] else ""}
        w.writerow(["是" if r[k] is True else "" if r[k] in (False, None) else r[k] for k, _ in CSV_COLUMNS])
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@api.get("/tickets/{number}", summary="One ticket with its trail, messages and ratings")
def ticket(number: int, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """404 when missing, 403 outside the caller's region."""
    t = session.get(Ticket, number) if 0 < number < 2**31 else None
    if t is None:
        raise not_found(f"工单 #{number}")
    require_grid(session, principal, t.grid_id)
    q = board.TicketQuery(extra=(Ticket.id == number,))
    _, [row] = board.ticket_rows(session, None, q, utcnow(), 0, 1)
    trail = board.ticket_trail(session, number)
    assert trail is not None
    return {**row, **trail}


@api.get("/workers", summary="Per-gridworker performance")
def workers(session: SessionDep, where: WhereDep, days: DaysDep) -> dict[str, Any]:
    """Each 责任人's tickets of the period, response and resolution in time, open and overdue now, ratings."""
    node, first, last, period = where.node, days.first, days.last, days.period
    rows = board.worker_performance(session, node.path, period, utcnow())
    if node.level == "grid":
        rows = [r for r in rows if _works_in(session, r["person_id"], node.id)]
    return {"date_from": first, "date_to": last, "workers": rows}


def _works_in(session: SessionDep, person_id: int, grid_id: int) -> bool:
    from gridbot.models.org.directory import grid_workers

    return any(p.id == person_id for p in grid_workers(session, grid_id))


@api.get("/overdue", summary="Overdue tickets with 责任人, 超期时长, escalation")
def overdue(
    session: SessionDep, where: WhereDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    """Longest overdue first."""
    node = where.node
    return board.overdue_rows(session, node.path, node.id if node.level == "grid" else None, utcnow(), limit)


@api.get("/map", summary="Grids with geometry, valued by a KPI")
def grid_map(
    session: SessionDep,
    services: ServicesDep,
    where: InRegionDep,
    days: DaysDep,
    key: Annotated[str, Query(max_length=64)] = "received",
) -> Response:
    """Each grid of the region with a centre point or GeoJSON, and its value of `key` for the period.

    Outlines only when the region has at most MAP_OUTLINES_MAX grids (`outlines` says which): a
    city's 12,990 outlines are megabytes no phone draws legibly; its districts and streets have them.
    """
    node, first, last = where.node, days.first, days.last
    if key not in views.RANKABLE:
        raise invalid("key", f"未知指标 {key}")
    outlines = grid_count(session, node) <= MAP_OUTLINES_MAX
    shapes = board.grid_shapes(session, node.path, outlines=outlines)
    values = {r.node.id: v for _, r, v in cached_ranking(session, services, node, key, first, last, "grids")}
    body = {
        "key": key,
        "date_from": first.isoformat(),
        "date_to": last.isoformat(),
        "outlines": outlines,
        "grids": [{**s, "value": values.get(s["grid_id"])} for s in shapes],
    }
    # thousands of plain values: json.dumps directly, not FastAPI's per-value encoder (~10x slower)
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


@api.get("/path", summary="The breadcrumb of a region or grid, from the caller's region down")
def crumbs(principal: PrincipalDep, session: SessionDep, where: WhereDep) -> list[dict[str, Any]]:
    """[{level, id, name}] from the caller's own region to the node asked for."""
    node = where.node
    ids = [int(x) for x in node.path.strip("/").split("/") if x]
    names = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(ids)))}
    out = [
        {"level": names[i].level.value, "id": i, "name": names[i].name}
        for i in ids
        if i in names and names[i].path.startswith(principal.region_path)
    ]
    if node.level == "grid":
        out.append({"level": "grid", "id": node.id, "name": node.name})
    return out


STATUS_OPTIONS = [{"value": s.value, "label": STATUS_LABELS[s]} for s in TicketStatus]
router.include_router(api)

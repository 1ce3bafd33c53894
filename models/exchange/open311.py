"""Open311 GeoReport v2 style read views: the service list of a city and service requests.

Field names follow GeoReport v2 (service_request_id, status open|closed, service_code, requested_datetime…);
location is the grid (gridbot stores no coordinates: lat/long are null, address is the grid name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import Grid, Ticket
from gridbot.models.enums import OPEN_STATUSES, TicketStatus
from gridbot.models.exchange.config import City, ExchangeConfig
from gridbot.models.exchange.represent import Mask, RegionNames, ticket_facts

MAX_REQUESTS = 1000  # GeoReport v2 lets a server cap a list; 1000 as the spec's examples do


def services(city: City) -> list[dict[str, Any]]:
    """services.json for one city."""
    return [
        {
            "service_code": s.service_code,
            "service_name": s.service_name,
            "description": s.description or s.service_name,
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(s.keywords),
            "group": s.group,
        }
        for s in city.services
    ]


@dataclass(frozen=True)
class RequestQuery:
    """Filters of requests.json (all optional; the scope is the caller's region subtree)."""

    scope_path: str
    request_ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    status: str | None = None  # "open" | "closed"
    start: datetime | None = None
    end: datetime | None = None
    limit: int = MAX_REQUESTS


def requests(
    session: Session, config: ExchangeConfig, city: City, query: RequestQuery, mask: Mask
) -> list[dict[str, Any]]:
    """requests.json: tickets of the scope, newest first, mapped to service codes."""
    stmt = (
        select(Ticket, Grid)
        .join(Grid, Grid.id == Ticket.grid_id)
        .where(Grid.region_path.startswith(query.scope_path, autoescape=True))
        .where(Ticket.status != TicketStatus.MERGED)
    )
    if query.request_ids:
        stmt = stmt.where(Ticket.id.in_(query.request_ids))
    if query.status == "open":
        stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
    elif query.status == "closed":
        stmt = stmt.where(Ticket.status.not_in(OPEN_STATUSES))
    if query.start is not None:
        stmt = stmt.where(Ticket.created_at >= query.start)
    if query.end is not None:
        stmt = stmt.where(Ticket.created_at < query.end)
    if query.service_codes:
        wanted = set(query.service_codes)
        categories = {c for s in city.services if s.service_code in wanted for c in s.categories}
        if city.default_service_code in wanted:
            mapped = {c for s in city.services for c in s.categories}
            stmt = stmt.where(Ticket.category.in_(categories) | Ticket.category.not_in(mapped))
        else:
            stmt = stmt.where(Ticket.category.in_(categories))
    stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(min(query.limit, MAX_REQUESTS))
    regions = RegionNames.of(session)
    out = []
    for ticket, grid in session.execute(stmt):
        f = ticket_facts(session, ticket, grid, regions, config, mask)
        out.append(
            {
                "service_request_id": str(ticket.id),
                "status": "open" if f["open"] else "closed",
                "status_notes": f["resolution_note"] or f["status_label"],
                "service_name": f["service_name"],
                "service_code": f["service_code"],
                "description": f["description"],
                "agency_responsible": grid.name,
                "service_notice": f["status_label"],
                "requested_datetime": f["created_at"],
                "updated_datetime": f["updated_at"],
                "expected_datetime": f["due"]["resolution"],
                "address": grid.name,
                "address_id": grid.code,
                "zipcode": None,
                "lat": None,
                "long": None,
                "media_url": None,
                "priority": f["priority"],
                "external": f["external"],
            }
        )
    return out

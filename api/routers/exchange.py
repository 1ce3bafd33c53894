"""The platform exchange: inbound work orders, their status, the dead-letter list, data quality.

Work orders go through `models.exchange.inbound`, which opens the ticket with the one lifecycle.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from gridbot.api.auth import PrincipalDep, require_scope
from gridbot.api.deps import ServicesDep, SessionDep
from gridbot.api.errors import ERROR_RESPONSES, ApiError, ErrorOut, invalid, not_found
from gridbot.api.exchange_deps import ConfigDep, TaxonomyDep, body_limit, city_of_principal
from gridbot.api.schemas import DB_INT_MAX, Note
from gridbot.models.entities import Grid, Ticket, utcnow
from gridbot.models.entities.exchange import DeliveryStatus, WebhookDelivery
from gridbot.models.enums import Priority, TicketKind
from gridbot.models.exchange import inbound, quality, webhooks
from gridbot.models.exchange.represent import RegionNames, ticket_facts
from gridbot.models.metrics import LOCAL_TZ
from gridbot.nlp.pii import mask

router = APIRouter(prefix="/exchange/v1", tags=["exchange"], responses=ERROR_RESPONSES)
Source = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
ExternalId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class WorkOrderIn(BaseModel):
    """A case pushed by the municipal platform into one grid."""

    source: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$", examples=["12345"])
    external_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    grid_code: str = Field(min_length=1, max_length=32)
    service_code: str | None = Field(None, max_length=32, description="the city's code (services.json)")
    category: str | None = Field(
        None, max_length=32, description="a gridbot category id, instead of service_code"
    )
    priority: Priority = Priority.NORMAL
    description: str = Field(min_length=1, max_length=2000)
    due_at: datetime | None = Field(None, description="the platform's own deadline (ISO 8601 with offset)")
    reference: Note | None = Field(None, description="free text kept with the link (masked)")


class WorkOrderOut(BaseModel):
    """The ticket a work order became, as the exchange shows tickets (docs/exchange.md)."""

    created: bool
    ticket: dict[str, Any]


class DeadLetterOut(BaseModel):
    """A delivery the deliverer gave up on."""

    id: int
    subscriber: str
    event: str
    idempotency_key: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    event_at: datetime


def _facts(session: SessionDep, ticket: Ticket, config: ConfigDep) -> dict[str, Any]:
    grid = session.get(Grid, ticket.grid_id)
    assert grid is not None
    return ticket_facts(session, ticket, grid, RegionNames.of(session), config, mask)


@router.post(
    "/work-orders",
    status_code=201,
    dependencies=[Depends(body_limit)],
    responses={
        200: {"model": WorkOrderOut, "description": "already received: the same ticket"},
        404: {"model": ErrorOut, "description": "unknown grid"},
        413: {"model": ErrorOut, "description": "body too large"},
    },
)
def push_work_order(
    body: WorkOrderIn,
    principal: PrincipalDep,
    services: ServicesDep,
    config: ConfigDep,
    taxonomy: TaxonomyDep,
    response: Response,
) -> WorkOrderOut:
    """Accept a work order into a grid: it becomes a ticket (once per source and external id)."""
    if body.due_at is not None and body.due_at.tzinfo is None:
        raise _bad_body("due_at", "due_at needs a UTC offset")
    with services.sessions.begin() as session:
        grid = inbound.find_grid(session, body.grid_code)
        if grid is None:
            raise not_found(f"网格 {body.grid_code}")
        require_scope(principal, grid.region_path)
        category = _category(session, config, principal, taxonomy, body)
        text = " ".join(body.description.split())
        order = inbound.WorkOrder(
            source=body.source,
            external_id=body.external_id,
            grid_code=grid.code,
            kind=TicketKind(taxonomy.kind_of(category)),
            category=category,
            category_label=taxonomy.label(category),
            priority=body.priority,
            text=text,
            text_masked=mask(text),
            due_at=body.due_at,
            extra={"reference": mask(body.reference)} if body.reference else {},
        )
        ticket, created = inbound.accept_work_order(session, order, utcnow(), services.policy)
        facts = _facts(session, ticket, config)
    if not created:
        response.status_code = 200
    return WorkOrderOut(created=created, ticket=facts)


def _category(
    session: SessionDep, config: ConfigDep, principal: PrincipalDep, taxonomy: TaxonomyDep, body: WorkOrderIn
) -> str:
    if body.category is not None:
        if body.category not in taxonomy.category_ids:
            raise _bad_body("category", f"unknown category {body.category}")
        return body.category
    if body.service_code is None:
        raise _bad_body("service_code", "give service_code or category")
    _, city = city_of_principal(session, config, principal)
    service = city.by_code(body.service_code)
    known = [c for c in (service.categories if service else ()) if c in taxonomy.category_ids]
    if not known:
        raise _bad_body("service_code", f"service_code {body.service_code} maps to no category")
    return known[0]


def _bad_body(field: str, message: str) -> RequestValidationError:
    """A 422 in FastAPI's declared shape, for a body field that parsed but makes no sense."""
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


@router.get("/work-orders/{source}/{external_id}", responses={404: {"model": ErrorOut}})
def work_order_status(
    source: Source, external_id: ExternalId, principal: PrincipalDep, session: SessionDep, config: ConfigDep
) -> WorkOrderOut:
    """Report back: the current state of the ticket a work order became."""
    link = inbound.find_link(session, source, external_id)
    ticket = session.get(Ticket, link.ticket_id) if link else None
    if ticket is None:
        raise not_found(f"工单 {source}/{external_id}")
    grid = session.get(Grid, ticket.grid_id)
    assert grid is not None
    require_scope(principal, grid.region_path)
    return WorkOrderOut(created=False, ticket=_facts(session, ticket, config))


@router.get("/dead-letters")
def dead_letters(
    principal: PrincipalDep,
    session: SessionDep,
    config: ConfigDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeadLetterOut]:
    """Webhook deliveries given up on, newest first (subscribers of the caller's region)."""
    mine = _subscribers_in_scope(session, config, principal.region_path)
    rows = [d for d in webhooks.dead_letters(session, limit=limit * 4) if d.subscriber in mine][:limit]
    return [
        DeadLetterOut(
            id=d.id,
            subscriber=d.subscriber,
            event=d.event_type.value,
            idempotency_key=d.idempotency_key,
            attempts=d.attempts,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            event_at=d.event_at,
        )
        for d in rows
    ]


@router.post("/dead-letters/{delivery_id}/retry", responses={404: {"model": ErrorOut}})
def retry_dead_letter(
    delivery_id: Annotated[int, Path(ge=1, le=DB_INT_MAX)],
    principal: PrincipalDep,
    services: ServicesDep,
    config: ConfigDep,
) -> dict[str, str]:
    """Queue a dead letter again (same body and idempotency key)."""
    with services.sessions.begin() as session:
        row = session.get(WebhookDelivery, delivery_id)
        mine = _subscribers_in_scope(session, config, principal.region_path)
        if row is None or row.status is not DeliveryStatus.DEAD or row.subscriber not in mine:
            raise not_found(f"死信 {delivery_id}")
        webhooks.retry_dead(session, delivery_id, utcnow())
    return {"status": "pending"}


def _subscribers_in_scope(session: SessionDep, config: ConfigDep, scope_path: str) -> set[str]:
    return webhooks.subscribers_in_scope(session, config, scope_path)


@router.get("/quality")
def data_quality(
    principal: PrincipalDep,
    session: SessionDep,
    config: ConfigDep,
    date_from: Annotated[date | None, Query(alias="from", ge=date(2000, 1, 1), le=date(2100, 12, 31))] = None,
    date_to: Annotated[date | None, Query(alias="to", ge=date(2000, 1, 1), le=date(2100, 12, 31))] = None,
) -> dict[str, Any]:
    """Completeness, timeliness and failures of the exchange over local days [from, to] (default: 30 days)."""
    today = utcnow().astimezone(LOCAL_TZ).date()
    last = date_to or today
    first = date_from or last - timedelta(days=29)
    if first > last:
        raise invalid("from", "from must not be after to")
    start = datetime.combine(first, time(), LOCAL_TZ).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), LOCAL_TZ).astimezone(UTC)
    try:
        _, city = city_of_principal(session, config, principal)
    except ApiError:
        city = None
    return quality.report(session, principal.region_path, city, start, end).as_dict()

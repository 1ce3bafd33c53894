"""Tickets: filtered list, detail with the audit trail, and lifecycle actions.

Every action calls `models.tickets`, the one lifecycle service the bot's commands use too, so a
change made here is checked by the same rules and announced in the group through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from gridbot.api import present, privacy
from gridbot.api.auth import PrincipalDep, require_grid
from gridbot.api.deps import ServicesDep, SessionDep
from gridbot.api.errors import ERROR_RESPONSES, ApiError, ErrorOut
from gridbot.api.params import Cursor, GridId, Limit, paged
from gridbot.api.schemas import (
    DB_INT_MAX,
    AssignIn,
    ReasonIn,
    RejectIn,
    ResolveIn,
    TicketDetail,
    TicketPage,
    UnmaskedOut,
)
from gridbot.models import listings as queries
from gridbot.models.entities import utcnow
from gridbot.models.enums import TicketKind, TicketStatus
from gridbot.models.org.tokens import TokenPrincipal
from gridbot.models.tickets import service as service

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/tickets", tags=["tickets"], responses=ERROR_RESPONSES)
Number = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="The ticket number (#42 → 42).")]
Day = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such ticket"},
    409: {"model": ErrorOut, "description": "the lifecycle refuses this action now (Chinese message)"},
}


@router.get("", responses={404: {"model": ErrorOut, "description": "no such grid"}})
def list_tickets(
    principal: PrincipalDep,
    session: SessionDep,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    kind: TicketKind | None = None,
    category: Annotated[str | None, Query(max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")] = None,
    grid: GridId = None,
    assignee: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    overdue: bool | None = None,
    created_from: Day = None,
    created_to: Day = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TicketPage:
    """Tickets of the caller's grids, newest first; dates are local days, both ends included."""
    if grid is not None:
        require_grid(session, principal, grid)
    f = queries.TicketFilter(
        statuses=status or (),
        kind=kind,
        category=category,
        grid_id=grid,
        assignee_id=assignee,
        overdue=overdue,
        created_from=created_from,
        created_to=created_to,
    )
    page = paged(lambda: queries.tickets_in_scope(session, principal.region_path, f, limit, cursor, utcnow()))
    return TicketPage(items=[present.ticket(t, g) for t, g in page.items], next_cursor=page.next_cursor)


def _detail(session: Session, principal: TokenPrincipal, number: int) -> TicketDetail:
    ticket = service.get_ticket(session, number)
    grid = require_grid(session, principal, ticket.grid_id)
    return present.ticket_detail(session, ticket, grid, principal)


@router.get("/{number}", responses={404: {"model": ErrorOut}})
def get_ticket(number: Number, principal: PrincipalDep, session: SessionDep) -> TicketDetail:
    """A ticket with its audit trail (masked) and the actions the caller may take."""
    return _detail(session, principal, number)


def _act(
    services: ServicesDep, principal: TokenPrincipal, number: int, do: Callable[[Session, datetime], object]
) -> TicketDetail:
    """One lifecycle call in its own transaction (committed before the response), then the fresh detail."""
    with services.sessions.begin() as session:
        require_grid(session, principal, service.get_ticket(session, number).grid_id)
        do(session, utcnow())
    with services.sessions() as session:
        return _detail(session, principal, number)


@router.post("/{number}/assign", responses=ACTION_RESPONSES)
def assign(number: Number, body: AssignIn, principal: PrincipalDep, services: ServicesDep) -> TicketDetail:
    """指派: give the ticket to a gridworker of its grid (the lifecycle's 转派 move)."""
    return transfer(number, body, principal, services)


@router.post("/{number}/transfer", responses=ACTION_RESPONSES)
def transfer(number: Number, body: AssignIn, principal: PrincipalDep, services: ServicesDep) -> TicketDetail:
    """转派: hand the ticket to another gridworker of its grid; announced in the group."""
    return _act(
        services,
        principal,
        number,
        lambda s, now: service.transfer(
            s, number, principal.actor, now, body.person_id, expected_version=body.expected_version
        ),
    )


@router.post("/{number}/resolve", responses=ACTION_RESPONSES)
def resolve(number: Number, body: ResolveIn, principal: PrincipalDep, services: ServicesDep) -> TicketDetail:
    """办结: the reporters are asked to rate it in the group."""
    return _act(
        services,
        principal,
        number,
        lambda s, now: service.resolve(
            s,
            number,
            principal.actor,
            now,
            note=body.note,
            policy=services.policy,
            expected_version=body.expected_version,
        ),
    )


@router.post("/{number}/reopen", responses=ACTION_RESPONSES)
def reopen(number: Number, body: ReasonIn, principal: PrincipalDep, services: ServicesDep) -> TicketDetail:
    """重办: back to in progress with fresh resolution clocks."""

    return _act(
        services,
        principal,
        number,
        lambda s, now: service.reopen(
            s,
            number,
            principal.actor,
            now,
            services.policy,
            reason=body.reason,
            expected_version=body.expected_version,
        ),
    )


@router.post("/{number}/reject", responses=ACTION_RESPONSES)
def reject(number: Number, body: RejectIn, principal: PrincipalDep, services: ServicesDep) -> TicketDetail:
    """退回: not a matter for the grid; the SLA clocks stop."""
    return _act(
        services,
        principal,
        number,
        lambda s, now: service.reject(
            s, number, principal.actor, now, body.reason, expected_version=body.expected_version
        ),
    )


@router.post(
    "/{number}/unmask",
    responses={
        403: {"model": ErrorOut, "description": "the token has no unmask role, or unmasking is disabled"},
        404: {"model": ErrorOut, "description": "no such ticket"},
    },
)
def unmask(number: Number, principal: PrincipalDep, services: ServicesDep) -> UnmaskedOut:
    """The ticket's raw text for the unmask role (off by default); every read is audited in its trail."""
    if not privacy.may_unmask(principal, services.settings):
        raise ApiError(403, "unmask_denied", "该令牌无权查看未脱敏的原文")
    with services.sessions.begin() as session:
        require_grid(session, principal, service.get_ticket(session, number).grid_id)
        ticket = service.record_unmask(session, number, principal.actor, utcnow())
        out = UnmaskedOut(number=ticket.id, text=ticket.text)
    logger.info("ticket %d unmasked for token %d", number, principal.token_id)
    return out

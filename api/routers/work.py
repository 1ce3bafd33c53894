"""The gridworkers' work page (mobile H5): sign in with the one-time link the bot sent privately,
then work one's own tickets through models.tickets — the same lifecycle as the chat commands.

Routes: GET /work (the page), POST /work/login {code} (one-time link → cookie), POST /work/logout,
and under /work/api: me (grids, this week's numbers), tickets (open tickets of my grids, most
urgent first), review (the 待确认 list), tickets/N (detail and trail), tickets/N/<action>.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.api.deps import ServicesDep, SessionDep
from gridbot.api.errors import ERROR_RESPONSES, ApiError, forbidden, not_found, unauthorized
from gridbot.api.routers import attachments
from gridbot.api.routers.dashboard import _static
from gridbot.api.routers.session import set_cookie
from gridbot.api.schemas import DB_INT_MAX
from gridbot.models.entities import Attachment, Grid, Person, RoleAssignment, Ticket, utcnow
from gridbot.models.enums import OPEN_STATUSES, WORKER_ROLES, Priority, TicketKind
from gridbot.models.metrics import LOCAL_TZ, Period, Scope, board, scope_metrics
from gridbot.models.org.directory import Actor, grid_workers
from gridbot.models.org.web_sessions import (
    WORKER_TTL,
    SessionInvalid,
    close_session,
    redeem_worker_link,
    worker_actor,
)
from gridbot.models.tickets import service as service

logger = logging.getLogger(__name__)
WORK_COOKIE = "gridbot_work"
router = APIRouter(tags=["work"], responses=ERROR_RESPONSES)
Number = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
Note = Annotated[str, Field(max_length=500)]


@dataclass(frozen=True)
class Worker:
    """The signed-in gridworker: who, as a lifecycle actor, and the grids they work in."""

    person: Person
    actor: Actor
    grid_ids: frozenset[int]


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if (
        request.method != "GET"
        and origin is not None
        and origin.rstrip("/") != str(request.base_url).rstrip("/")
    ):
        raise forbidden()


def get_worker(request: Request, services: ServicesDep) -> Worker:
    """The gridworker behind the work-page cookie, or 401."""
    secret = request.cookies.get(WORK_COOKIE)
    if not secret:
        raise unauthorized()
    _same_origin(request)
    try:
        with services.sessions() as session:
            person, actor = worker_actor(session, secret, utcnow())
            grids = frozenset(
                session.scalars(
                    select(RoleAssignment.grid_id).where(
                        RoleAssignment.person_id == person.id,
                        RoleAssignment.active,
                        RoleAssignment.role.in_(sorted(WORKER_ROLES)),
                        RoleAssignment.grid_id.is_not(None),
                    )
                )
            )
            session.expunge(person)
    except SessionInvalid as exc:
        logger.info("work page session refused: %s", exc)
        raise unauthorized() from None
    return Worker(person, actor, frozenset(g for g in grids if g is not None))


WorkerDep = Annotated[Worker, Depends(get_worker)]


class CodeIn(BaseModel):
    """The one-time sign-in code from the bot's private message."""

    code: str = Field(min_length=8, max_length=200)


class ActionIn(BaseModel):
    """A lifecycle action's note (回复 text, 挂起/退回 reason, 办结 note), target or category."""

    note: Note | None = None
    person_id: int | None = Field(default=None, ge=1, le=DB_INT_MAX)
    category: Annotated[str, Field(max_length=32)] | None = None
    expected_version: int | None = Field(default=None, ge=1, le=DB_INT_MAX)


@router.get("/work", include_in_schema=False)
def page(request: Request) -> Response:
    """The mobile work page."""
    return _static(request, "work.html", "text/html; charset=utf-8", cache="no-cache")


@router.post("/work/login", summary="Sign in to the work page with a one-time code")
def login(body: CodeIn, request: Request, response: Response, services: ServicesDep) -> dict[str, str]:
    """The code is good once, for 15 minutes; 401 otherwise (ask the bot again with 工作台)."""
    _same_origin(request)
    try:
        with services.sessions.begin() as session:
            secret, _ = redeem_worker_link(session, body.code.strip(), utcnow())
    except SessionInvalid as exc:
        logger.info("work page sign-in refused: %s", exc)
        raise ApiError(
            401, "unauthorized", "登录码无效或已使用，请在群里或私聊发送「工作台」重新获取"
        ) from None
    set_cookie(response, request, WORK_COOKIE, secret, int(WORKER_TTL.total_seconds()), "/work")
    return {"status": "ok"}


@router.post("/work/logout", status_code=204, summary="Sign out of the work page")
def logout(request: Request, services: ServicesDep) -> Response:
    """Revokes the session and clears the cookie."""
    secret = request.cookies.get(WORK_COOKIE)
    if secret:
        with services.sessions.begin() as session:
            close_session(session, secret, utcnow())
    response = Response(status_code=204)
    response.delete_cookie(WORK_COOKIE, path="/work", httponly=True, samesite="strict")
    return response


def _week(now: datetime) -> Period:
    today = now.astimezone(LOCAL_TZ).date()
    monday = today - timedelta(days=today.weekday())
    return Period(Period.local_days(monday, monday).start, now)


@router.get("/work/api/me", summary="The signed-in gridworker, their grids and this week's numbers")
def me(worker: WorkerDep, session: SessionDep) -> dict[str, Any]:
    """Per grid: this week's counts and rates, with the same rules as 统计."""
    now = utcnow()
    grids = []
    if worker.grid_ids:
        report = scope_metrics(session, Scope.grids(*worker.grid_ids), _week(now))
        for g in report.grids:
            grids.append(
                {
                    "grid_id": g.grid_id,
                    "name": g.grid_name,
                    "received": g.received,
                    "resolved": g.resolved,
                    "overdue": g.overdue,
                    "response_due": g.response_due,
                    "first_response_on_time_rate": g.first_response_on_time_rate,
                    "on_time_signing_rate": g.on_time_signing_rate,
                    "resolution_rate": g.resolution_rate,
                    "satisfaction_rate": g.satisfaction_rate,
                    "solve_rate": g.solve_rate,
                }
            )
    mine = board.worker_performance(session, "/", _week(now), now, person_id=worker.person.id)
    return {"name": worker.person.name, "grids": grids, "mine": mine[0] if mine else None}


def _urgency(row: dict[str, Any], now: datetime) -> tuple[int, float, int]:
    due = row["next_due"] or row["due_at"]
    return (
        0 if row["priority"] == Priority.URGENT.value else 1,
        (due - now).total_seconds() if due else float("inf"),
        row["number"],
    )


@router.get("/work/api/tickets", summary="My open tickets, most urgent first")
def my_tickets(worker: WorkerDep, session: SessionDep) -> list[dict[str, Any]]:
    """Open tickets of my grids assigned to me or to nobody: urgent first, then the nearest deadline."""
    now = utcnow()
    if not worker.grid_ids:
        return []
    q = board.TicketQuery(
        statuses=tuple(OPEN_STATUSES),
        needs_review=False,
        extra=(
            Ticket.grid_id.in_(sorted(worker.grid_ids)),
            (Ticket.assignee_id == worker.person.id) | Ticket.assignee_id.is_(None),
        ),
    )
    _, rows = board.ticket_rows(session, None, q, now, 0, board.MAX_PAGE)
    nexts = board.next_deadlines(session, [r["number"] for r in rows])
    for r in rows:
        r["next_due"], r["next_kind"] = nexts.get(r["number"], (None, None))
    return sorted(rows, key=lambda r: _urgency(r, now))


@router.get("/work/api/review", summary="The 待确认 list of my grids")
def review(worker: WorkerDep, session: SessionDep) -> dict[str, Any]:
    """Low-confidence reports waiting for a gridworker to confirm (接单), correct (改类) or reject (退回)."""
    if not worker.grid_ids:
        return {"items": [], "categories": []}
    q = board.TicketQuery(
        statuses=tuple(OPEN_STATUSES), needs_review=True, extra=(Ticket.grid_id.in_(sorted(worker.grid_ids)),)
    )
    _, rows = board.ticket_rows(session, None, q, utcnow(), 0, board.MAX_PAGE)
    return {"items": rows, "categories": board.known_categories(session)}


def _mine(session: Session, worker: Worker, number: int) -> Ticket:
    t = session.get(Ticket, number)
    if t is None:
        raise not_found(f"工单 #{number}")
    if t.grid_id not in worker.grid_ids:
        raise ApiError(403, "forbidden", f"工单 #{number} 不在您负责的网格")
    return t


@router.get("/work/api/tickets/{number}", summary="A ticket of my grids with its trail")
def ticket(number: Number, worker: WorkerDep, session: SessionDep) -> dict[str, Any]:
    """The ticket, its events, messages and ratings, and the gridworkers it may be transferred to."""
    t = _mine(session, worker, number)
    _, [row] = board.ticket_rows(
        session, None, board.TicketQuery(extra=(Ticket.id == number,)), utcnow(), 0, 1
    )
    trail = board.ticket_trail(session, number)
    assert trail is not None
    others = [
        {"person_id": p.id, "name": p.name}
        for p in grid_workers(session, t.grid_id)
        if p.id != worker.person.id
    ]
    return {**row, **trail, "transfer_to": others}


@router.post(
    "/work/api/attachments/{attachment_id}/heard", status_code=204, summary="A voice message was listened to"
)
def heard(attachment_id: Number, worker: WorkerDep, services: ServicesDep) -> Response:
    """Clear a voice message's 待收听 flag (a gridworker of its grid listened to it)."""
    with services.sessions.begin() as session:
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise not_found("附件")
        ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
        if attachments.grid_of(row, ticket) not in worker.grid_ids:
            raise ApiError(403, "forbidden", "该附件不在您负责的网格")
        row.needs_listening = False
    return Response(status_code=204)


@router.post(
    "/work/api/tickets/{number}/photos", status_code=201, summary="Upload a 处置后照片 (body: the image)"
)
async def upload_photo(
    number: Number, request: Request, worker: WorkerDep, services: ServicesDep
) -> attachments.AttachmentOut:
    """Store the photo as the ticket's 处置后照片 (then 办结 can close a category that needs one)."""
    data = attachments.read_upload(await request.body())

    def mine(session: Session, ticket: Ticket) -> None:
        _mine(session, worker, ticket.id)

    return attachments.store_upload(services, number, data, worker.person.id, mine)


Action = Literal["accept", "reply", "transfer", "suspend", "resume", "resolve", "reject", "reclassify"]


@router.post("/work/api/tickets/{number}/{action}", summary="Act on a ticket (the chat commands' lifecycle)")
def act(
    number: Number, action: Action, body: ActionIn, worker: WorkerDep, services: ServicesDep, request: Request
) -> dict[str, Any]:
    """接单, 回复, 转派, 挂起, 恢复, 办结, 退回, 改类 — refused with a Chinese 409 when the lifecycle says no."""
    note = (body.note or "").strip()
    needs_note = {"reply": "回复内容", "suspend": "挂起原因", "reject": "退回原因"}
    if action in needs_note and not note:
        raise ApiError(422, "missing_note", f"请填写{needs_note[action]}")
    if action == "transfer" and body.person_id is None:
        raise ApiError(422, "missing_person", "请选择转派对象")
    if action == "reclassify" and not body.category:
        raise ApiError(422, "missing_category", "请选择正确的类别")
    kw: dict[str, Any] = {"expected_version": body.expected_version} if body.expected_version else {}
    actor = worker.actor
    with services.sessions.begin() as session:
        _mine(session, worker, number)
        now = utcnow()
        do: dict[str, Callable[[], object]] = {
            "accept": lambda: service.accept(session, number, actor, now, **kw),
            "reply": lambda: service.respond(session, number, actor, now, note, **kw),
            "transfer": lambda: service.transfer(session, number, actor, now, int(body.person_id or 0), **kw),
            "suspend": lambda: service.suspend(session, number, actor, now, note, **kw),
            "resume": lambda: service.resume(session, number, actor, now, services.policy, **kw),
            "resolve": lambda: service.resolve(
                session, number, actor, now, note=note or None, policy=services.policy, **kw
            ),
            "reject": lambda: service.reject(session, number, actor, now, note, **kw),
            "reclassify": lambda: _reclassify(session, number, actor, now, body.category or ""),
        }
        do[action]()
    with services.sessions() as session:
        return ticket(number, worker, session)


@router.get("/work/api/attachments/{attachment_id}", summary="A photo, file or voice of my grids' tickets")
def attachment_file(
    attachment_id: Number, worker: WorkerDep, services: ServicesDep, session: SessionDep
) -> FileResponse:
    """The file, when its ticket (or message) belongs to one of my grids."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise not_found("附件")
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
    if attachments.grid_of(row, ticket) not in worker.grid_ids:
        raise ApiError(403, "forbidden", "该附件不在您负责的网格")
    return attachments.file_response(services, row)


def _reclassify(session: Session, number: int, actor: Actor, now: datetime, label: str) -> None:
    known = {c["label"]: c for c in board.known_categories(session)}
    if label not in known:
        raise ApiError(422, "unknown_category", f"没有「{label}」这个类别")
    c = known[label]
    service.reclassify(session, number, actor, now, TicketKind(c["kind"]), c["category"], label)


__all__ = ["WORK_COOKIE", "router", "Grid"]

"""The WeCom chat-toolbar (聊天工具栏) sidebar: a gridworker's view of the current external group.

The page (`/wecom/sidebar`) runs inside the WeCom client. WeCom opens it with an OAuth `code`; the
page trades it for a short session (`/wecom/sidebar/api/session`, qyapi `auth/getuserinfo`), signs
the JS-SDK `agentConfig` (`/wecom/sidebar/api/jsconfig`), asks the client for the current chat
(`getCurExternalChat`), then shows that group's open tickets and the replies waiting to be posted
(handoffs) with a one-tap 发送 (`sendChatMessage`) and 接单 / 办结 buttons that run the lifecycle.
Posting is confirmed by the archive (the bot closes the handoff), not by this page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path as FilePath
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import select

from gridbot.api.deps import ServicesDep
from gridbot.api.errors import ApiError, forbidden, not_found, ticket_error, unauthorized
from gridbot.models.entities import ChatGroup, Person, Ticket, utcnow
from gridbot.models.enums import OPEN_STATUSES, STATUS_LABELS, Role
from gridbot.models.errors import TicketError
from gridbot.models.org import directory
from gridbot.models.settings import WeComSettings
from gridbot.models.tickets import handoffs
from gridbot.models.tickets import service as tickets

# the sidebar page's own backend (its own session scheme): not part of the administrators' API schema
router = APIRouter(prefix="/wecom/sidebar", tags=["wecom"], include_in_schema=False)
STATIC = FilePath(__file__).resolve().parent.parent / "static"
SESSION_S = 8 * 3600
WORKERS = {Role.GRIDWORKER, Role.PARTTIME_GRIDWORKER, Role.GRID_LEADER}


class SidebarTicket(BaseModel):
    number: str
    category: str
    status: str
    text: str  # the masked copy


class SidebarHandoff(BaseModel):
    id: int
    text: str
    ticket: str | None


class SidebarChat(BaseModel):
    topic: str
    tickets: list[SidebarTicket]
    handoffs: list[SidebarHandoff]


def _configured(w: WeComSettings) -> tuple[str, str, int]:
    if not w.corp_id or w.app_secret is None or w.agent_id is None:
        raise ApiError(
            503, "wecom_not_configured", "侧边栏未配置：需设置 GRIDBOT_WECOM__CORP_ID、AGENT_ID、APP_SECRET"
        )
    return w.corp_id, w.app_secret.get_secret_value(), w.agent_id


async def _qyapi(w: WeComSettings, path: str, **params: Any) -> dict[str, Any]:
    corp, secret, _ = _configured(w)
    async with httpx.AsyncClient(base_url=w.api_base, timeout=10) as http:
        try:
            token = (
                await http.get("/cgi-bin/gettoken", params={"corpid": corp, "corpsecret": secret})
            ).json()
            if token.get("errcode", 0) != 0:
                raise ApiError(502, "wecom_error", f"企业微信 gettoken 失败：{token.get('errcode')}")
            data: dict[str, Any] = (
                await http.get(path, params={"access_token": token["access_token"], **params})
            ).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ApiError(502, "wecom_unreachable", f"连不上企业微信接口（{type(exc).__name__}）") from None
    return data


def _sign(w: WeComSettings, userid: str, expires: int) -> str:
    _, secret, _ = _configured(w)
    mac = hmac.new(secret.encode(), f"{userid}|{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{userid}|{expires}|{mac}"


def _user(w: WeComSettings, authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise unauthorized()
    try:
        userid, raw_expires, mac = authorization.removeprefix("Bearer ").rsplit("|", 2)
        expires = int(raw_expires)
    except ValueError:
        raise unauthorized() from None
    if expires < time.time() or not hmac.compare_digest(
        _sign(w, userid, int(expires)), f"{userid}|{expires}|{mac}"
    ):
        raise unauthorized()
    return userid


Auth = Annotated[str | None, Header()]


@router.get("", include_in_schema=False)
def page() -> FileResponse:
    """The sidebar page (Chinese, no bundled third-party code; the WeCom client provides the JS-SDK)."""
    return FileResponse(STATIC / "wecom_sidebar.html", media_type="text/html")


@router.get("/assets/sidebar.js", include_in_schema=False)
def script() -> FileResponse:
    return FileResponse(STATIC / "wecom_sidebar.js", media_type="text/javascript")


@router.get("/api/session")
async def session(
    services: ServicesDep, code: Annotated[str, Query(min_length=1, max_length=512)]
) -> dict[str, str]:
    """Trade WeCom's OAuth code for a sidebar session of a registered staff member."""
    w = services.settings.wecom
    info = await _qyapi(w, "/cgi-bin/auth/getuserinfo", code=code)
    userid = str(info.get("userid") or info.get("UserId") or "")
    if info.get("errcode", 0) != 0 or not userid:
        raise unauthorized()
    with services.sessions() as db:
        person = db.scalar(select(Person).where(Person.platform_id == userid))
        if person is None:
            raise forbidden()
        name = person.name
    return {"token": _sign(w, userid, int(time.time()) + SESSION_S), "name": name}


@router.get("/api/jsconfig")
async def jsconfig(
    services: ServicesDep,
    url: Annotated[str, Query(min_length=1, max_length=2048)],
    authorization: Auth = None,
) -> dict[str, Any]:
    """The `agentConfig` parameters for `url` (the page's address without the fragment)."""
    w = services.settings.wecom
    _user(w, authorization)
    corp, _, agent = _configured(w)
    ticket = await _qyapi(w, "/cgi-bin/ticket/get", type="agent_config")
    if ticket.get("errcode", 0) != 0:
        raise ApiError(502, "wecom_error", f"企业微信 ticket/get 失败：{ticket.get('errcode')}")
    nonce, ts = secrets.token_hex(8), int(time.time())
    raw = f"jsapi_ticket={ticket['ticket']}&noncestr={nonce}&timestamp={ts}&url={url.split('#')[0]}"
    signature = hashlib.sha1(raw.encode()).hexdigest()  # noqa: S324 - the algorithm WeCom mandates
    return {"corpid": corp, "agentid": agent, "timestamp": ts, "nonceStr": nonce, "signature": signature}


def _grid_of_room(services: ServicesDep, room: str, userid: str) -> tuple[int, str, Any]:
    with services.sessions() as db:
        group = db.scalar(select(ChatGroup).where(ChatGroup.room_id == room, ChatGroup.staff_room.is_(False)))
        person = db.scalar(select(Person).where(Person.platform_id == userid))
        if group is None or group.grid_id is None:
            raise not_found("该群（尚未绑定网格）")
        if person is None:
            raise forbidden()
        actor = directory.actor_for(db, person)
        if not any(r in WORKERS and g == group.grid_id for r, g, _ in actor.roles):
            raise forbidden()
        return group.grid_id, group.topic, actor


@router.get("/api/chat/{chat_id}")
def chat(
    services: ServicesDep, chat_id: Annotated[str, Path(max_length=128)], authorization: Auth = None
) -> SidebarChat:
    """The current group's open tickets and its replies waiting to be posted."""
    userid = _user(services.settings.wecom, authorization)
    grid_id, topic, _ = _grid_of_room(services, chat_id, userid)
    with services.sessions() as db:
        rows = db.scalars(
            select(Ticket)
            .where(Ticket.grid_id == grid_id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.id)
        ).all()
        open_tickets = [
            SidebarTicket(
                number=t.number,
                category=t.category_label or t.category,
                status=STATUS_LABELS[t.status],
                text=t.text_masked[:120],
            )
            for t in rows
        ]
        numbers = {t.id: t.number for t in rows}
        waiting = [
            SidebarHandoff(id=h.id, text=h.text, ticket=numbers.get(h.ticket_id) if h.ticket_id else None)
            for h in handoffs.open_for_room(db, chat_id)
        ]
    return SidebarChat(topic=topic, tickets=open_tickets, handoffs=waiting)


@router.post("/api/chat/{chat_id}/tickets/{number}/{action}")
def act(
    services: ServicesDep, chat_id: str, number: int, action: str, authorization: Auth = None
) -> dict[str, str]:
    """接单 (accept) or 办结 (resolve) from the sidebar: the same lifecycle as the chat commands."""
    userid = _user(services.settings.wecom, authorization)
    grid_id, _, actor = _grid_of_room(services, chat_id, userid)
    if action not in ("accept", "resolve"):
        raise not_found("该操作")
    try:
        with services.sessions.begin() as db:
            ticket = db.get(Ticket, number)
            if ticket is None or ticket.grid_id != grid_id:
                raise not_found(f"工单 #{number}")
            if action == "resolve":
                done = tickets.resolve(db, number, actor, utcnow(), policy=services.policy)
            else:
                done = tickets.accept(db, number, actor, utcnow())
            return {"number": done.number, "status": STATUS_LABELS[done.status]}
    except TicketError as exc:
        raise ticket_error(exc) from None

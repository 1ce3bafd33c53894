"""The WeCom transport: channels combined by capability.

- Residents' messages come from the archive (`ArchivePuller`), never from a bot in their group.
- The residents' group is answered by *handoff*: the bot may not post in an external group, so each
  reply becomes a handoff item sent privately to the responsible gridworker, ready to forward.
- Staff are reached privately over the AI bot (markdown, template cards), or by app message
  (`message/send`) when the AI bot cannot deliver. Staff commands arrive by DM or @ in a staff
  group; each gridworker's DM with the bot is a staff room bound to their grid.

Nothing of this reaches handlers/ or models/: they only see rooms where `can_post` is False.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.bot.transport import OnMemberChange, OnMessage, TransportError, TransportStatus
from gridbot.bot.wecom.aibot import AiBotChannel, BotText, CardClick
from gridbot.bot.wecom.archive import ArchivePuller, ConsentCache
from gridbot.bot.wecom.finance import ArchiveSource, KeyRing
from gridbot.bot.wecom.qyapi import QyApi
from gridbot.handlers.types import IncomingMessage, OutgoingMessage
from gridbot.models.entities import ChatGroup, Grid, Outbox, Person, Ticket, utcnow
from gridbot.models.enums import STAFF_KINDS, OutboxKind, Role, TicketStatus
from gridbot.models.org import directory
from gridbot.models.settings import Settings
from gridbot.models.tickets import handoffs

logger = logging.getLogger(__name__)
WORKER_ROLES = (Role.GRIDWORKER, Role.PARTTIME_GRIDWORKER, Role.GRID_LEADER)
NOT_STAFF = "您的企业微信账号尚未登记为网格员或管理员，请联系管理员在组织架构导入中填写企业微信账号。"


def dm_room(userid: str) -> str:
    return f"wecom:dm:{userid}"


def chat_room(chatid: str) -> str:
    return f"wecom:chat:{chatid}"


def ticket_card(ticket: Ticket, grid_name: str, handoff_text: str, task_id: str) -> dict[str, Any]:
    """A button-interaction template card for a new ticket: 接单 / 办结 / 转派 run the lifecycle."""
    no = ticket.number.lstrip("#")
    return {
        "card_type": "button_interaction",
        "main_title": {
            "title": f"新工单 #{no}【{ticket.category_label or ticket.category}】",
            "desc": grid_name,
        },
        "sub_title_text": ticket.text_masked[:120],
        "horizontal_content_list": [{"keyname": "请转发到群", "value": handoff_text[:60]}],
        "button_list": [
            {"text": "接单", "style": 1, "key": f"接单 #{no}"},
            {"text": "办结", "style": 2, "key": f"办结 #{no}"},
            {"text": "转派", "style": 2, "key": f"转派 #{no}"},
        ],
        "task_id": task_id,
    }


@dataclass(frozen=True)
class Plan:
    """How one outgoing message to a residents' group the bot may not post in is delivered."""

    staff: bool  # reminders and alarms: privately to the staff it names
    workers: list[str]  # the responsible gridworker first
    handoff: int | None  # the handoff item for a resident-facing reply
    topic: str
    card: dict[str, Any] | None  # a new ticket: the card with 接单 / 办结 / 转派


def handoff_text(plan: Plan, text: str) -> str:
    """What the gridworker reads privately: where to post, then the text ready to forward."""
    return f"请在「{plan.topic or '居民群'}」发送以下回复（侧边栏可一键发送）：\n\n{text}"


def plan_delivery(session: Session, message: OutgoingMessage, now: datetime) -> Plan:
    """Decide (and record, for a handoff) how `message` to a no-post room is delivered."""
    rows = list(session.scalars(select(Outbox).where(Outbox.id.in_(message.outbox_ids))))
    kinds = {r.kind for r in rows}
    ticket_id = next((r.ticket_id for r in rows if r.ticket_id is not None), None)
    group = session.scalar(select(ChatGroup).where(ChatGroup.room_id == message.room_id))
    if group is not None and group.can_post:
        raise TransportError(f"room {message.room_id} is not a group the bot hands replies off in")
    workers: list[str] = []
    ticket = session.get(Ticket, ticket_id) if ticket_id else None
    if ticket is not None and ticket.assignee_id:
        assignee = session.get(Person, ticket.assignee_id)
        if assignee and assignee.platform_id:
            workers.append(assignee.platform_id)
    grid = session.get(Grid, group.grid_id) if group is not None and group.grid_id else None
    if grid is not None:
        for roles in (frozenset(WORKER_ROLES[:2]), frozenset({Role.GRID_LEADER})):
            workers.extend(
                p.platform_id for p in directory.grid_workers(session, grid.id, roles) if p.platform_id
            )
            if workers:
                break
    workers = list(dict.fromkeys(workers))
    staff = bool(kinds) and kinds <= STAFF_KINDS
    if staff or not message.outbox_ids:
        return Plan(staff, workers, None, group.topic if group else "", None)
    handoff, _ = handoffs.create(
        session,
        outbox_ids=message.outbox_ids,
        room_id=message.room_id or "",
        text=message.text,
        kind=sorted(k.value for k in kinds - STAFF_KINDS)[0]
        if kinds - STAFF_KINDS
        else OutboxKind.REPLY.value,
        ticket_id=ticket_id,
        assignee_platform_id=workers[0] if workers else None,
        now=now,
    )
    card = None
    if ticket is not None and ticket.status is TicketStatus.NEW:
        card = ticket_card(
            ticket, grid.name if grid else "", message.text, f"ticket-{ticket.id}-{handoff.id}"
        )
    return Plan(False, workers, handoff.id, group.topic if group else "", card)


def ensure_staff_room(session: Session, room: str, userid: str, direct: bool, now: datetime) -> str | None:
    """The staff member's name, their DM room bound to their grid (None: not registered staff).

    A staff group (not `direct`) is recorded unbound; an admin binds it with 「绑定 网格编号」.
    """
    person = session.scalar(select(Person).where(Person.platform_id == userid))
    group = session.scalar(select(ChatGroup).where(ChatGroup.room_id == room))
    if not direct:
        if group is None:
            session.add(ChatGroup(room_id=room, staff_room=True, created_at=now))
        return person.name if person else userid
    if person is None:
        return None
    actor = directory.actor_for(session, person)
    grids = sorted(g for r, g, _ in actor.roles if g is not None and r in WORKER_ROLES)
    admin = any(r not in (Role.RESIDENT, *WORKER_ROLES) for r, _, _ in actor.roles)
    if not grids and not admin:
        return None
    if group is None:
        group = ChatGroup(room_id=room, topic=f"{person.name}（私聊）", staff_room=True, created_at=now)
        session.add(group)
    if grids and group.grid_id is None:
        group.grid_id, group.bound_at = grids[0], now
    return person.name


class WeComTransport:
    """Transport over WeCom: archive intake, AI-bot staff channel, handoffs for residents' groups."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        source: ArchiveSource | None = None,
        keys: KeyRing | None = None,
        clock: Callable[[], datetime] = utcnow,
        login_timeout_s: float | None = None,
    ) -> None:
        self.settings = settings
        self.wecom = settings.wecom
        self.sessions = sessions
        self.source = source
        self.keys = keys
        self.clock = clock
        self.login_timeout_s = login_timeout_s or settings.wechaty.login_timeout_s
        self.status = TransportStatus(name="wecom", bot_id=f"wecom:{self.wecom.bot_id}")
        self.api = QyApi(self.wecom.api_base, self.wecom.corp_id or "")
        self.bot: AiBotChannel | None = None
        self.puller: ArchivePuller | None = None
        self._on_message: OnMessage | None = None
        self._stop = anyio.Event()
        self._puller_task: asyncio.Task[None] | None = None

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self, on_message: OnMessage, on_member_change: OnMemberChange) -> None:
        self._on_message = on_message
        self.bot = AiBotChannel(
            self.wecom, self._on_text, self._on_click, bot_name=self.settings.wechaty.bot_name
        )
        await self.bot.start(self.login_timeout_s)
        self.status.connected = self.status.logged_in = True
        self.status.bot_name = self.settings.wechaty.bot_name
        if self.source is not None and self.keys is not None:
            secret = self.wecom.archive_secret.get_secret_value() if self.wecom.archive_secret else ""
            consent = ConsentCache(
                lambda room: self.api.room_agreement(secret, room), self.wecom.consent_cache_s
            )
            self.puller = ArchivePuller(
                self.sessions,
                self.source,
                self.keys,
                consent,
                self._archived,
                batch=self.wecom.archive_batch,
                lag_alert_s=self.wecom.archive_lag_alert_minutes * 60,
                fetch_timeout_s=self.wecom.archive_timeout_s + 30.0,
                clock=self.clock,
            )
            self._puller_task = asyncio.ensure_future(self.puller.run(self._stop, self.wecom.archive_poll_s))

    async def stop(self) -> None:
        self._stop.set()
        if self._puller_task is not None:
            await asyncio.wait({self._puller_task}, timeout=15)
        if self.bot is not None:
            await self.bot.stop()
        await self.api.aclose()
        self.status.connected = self.status.logged_in = False

    # ---- inbound --------------------------------------------------------------------------
    async def _archived(self, msg: IncomingMessage) -> None:
        assert self._on_message is not None
        self.status.last_message_at = self.clock()
        await self._on_message(msg)

    async def _on_text(self, text: BotText, frame: dict[str, Any]) -> None:
        room = dm_room(text.userid) if text.chattype == "single" else chat_room(text.chatid or "")
        name = await anyio.to_thread.run_sync(self._staff_room, room, text.userid, text.chattype == "single")
        if name is None:
            assert self.bot is not None
            await self.bot.reply_text(frame, NOT_STAFF)
            return
        await self._deliver(f"wecom-bot:{text.msgid}", room, text.userid, name, text.text)

    async def _on_click(self, click: CardClick, frame: dict[str, Any]) -> None:
        room = dm_room(click.userid)
        name = await anyio.to_thread.run_sync(self._staff_room, room, click.userid, True)
        if name is None:
            return
        await self._deliver(f"wecom-card:{click.msgid}", room, click.userid, name, click.event_key)

    async def _deliver(self, platform_id: str, room: str, userid: str, name: str, text: str) -> None:
        assert self._on_message is not None
        self.status.last_message_at = self.clock()
        await self._on_message(
            IncomingMessage(
                platform_id=platform_id,
                room_id=room,
                sender_id=userid,
                sender_name=name,
                text=text,
                sent_at=self.clock(),
                mentions_bot=True,
            )
        )

    def _staff_room(self, room: str, userid: str, direct: bool) -> str | None:
        with self.sessions.begin() as session:
            return ensure_staff_room(session, room, userid, direct, self.clock())

    # ---- outbound -------------------------------------------------------------------------
    async def send(self, message: OutgoingMessage) -> str | None:
        if message.room_id is None:
            if message.to_contact_id is None:
                raise ValueError("an OutgoingMessage needs a room_id or a to_contact_id")
            return await self.private([message.to_contact_id], message.text)
        room = message.room_id
        if room.startswith("wecom:dm:"):
            return await self.private([room.removeprefix("wecom:dm:")], message.text)
        if room.startswith("wecom:chat:"):
            assert self.bot is not None
            return await self.bot.send_markdown(room.removeprefix("wecom:chat:"), message.text)
        plan = await anyio.to_thread.run_sync(self._plan, message)
        if plan.staff:
            # a reminder or an alarm for a group the bot cannot post in: to the staff privately
            return await self.private(list(message.mention_ids) or plan.workers, message.text)
        return await self._hand_off(plan, message)

    def _plan(self, message: OutgoingMessage) -> Plan:
        with self.sessions.begin() as session:
            return plan_delivery(session, message, self.clock())

    async def _hand_off(self, plan: Plan, message: OutgoingMessage) -> str:
        if plan.handoff is None:
            raise TransportError(f"nothing to hand off for {message.outbox_ids}")
        if not plan.workers:
            logger.warning("handoff %s for %s has no gridworker to send it", plan.handoff, message.room_id)
            return f"handoff:{plan.handoff}"
        assert self.bot is not None
        if plan.card is not None:
            await self.bot.send_card(plan.workers[0], plan.card)
        await self.private(plan.workers[:1], handoff_text(plan, message.text))
        return f"handoff:{plan.handoff}"

    async def private(self, userids: list[str], text: str) -> str | None:
        """A private message to staff: the AI bot first, the app message when that fails."""
        assert self.bot is not None
        ids: list[str] = []
        try:
            for userid in userids:
                ids.append(await self.bot.send_markdown(userid, text))
            return ids[0] if ids else None
        except Exception as exc:
            if self.wecom.agent_id is None or self.wecom.app_secret is None:
                raise
            logger.warning("ai bot send failed (%s): app message instead", type(exc).__name__)
            rest = userids[len(ids) :]
            return await self.api.send_app_text(
                self.wecom.app_secret.get_secret_value(), self.wecom.agent_id, rest, text
            )

"""Group announcements of ticket changes, queued in the outbox with the change itself.

Whether a change came from a bot command or the API, the group hears about it the same way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import ChatGroup, Person, Ticket, TicketEvent
from gridbot.models.enums import OutboxKind
from gridbot.models.messaging.outbox import enqueue

# the 回访 question 「问题解决了吗」 is asked with the rating and recorded apart from it (Rating.solved)
RATING_PROMPT = (
    "问题解决了吗？可在评价后加「已解决」或「未解决」（如「1 已解决」）。"
    "请对本次处理评价：回复 1 满意 / 2 基本满意 / 3 不满意"
)


def grid_room(session: Session, grid_id: int) -> str | None:
    """The room id of the grid's first bound residents' group (None when the grid has no group)."""
    return session.scalar(
        select(ChatGroup.room_id)
        .where(ChatGroup.grid_id == grid_id, ChatGroup.staff_room.is_(False))
        .order_by(ChatGroup.id)
        .limit(1)
    )


def room_can_post(session: Session, grid_id: int) -> bool:
    """Whether the bot posts in the grid's residents' group itself (False: its replies are handed off)."""
    allowed = session.scalar(
        select(ChatGroup.can_post)
        .where(ChatGroup.grid_id == grid_id, ChatGroup.staff_room.is_(False))
        .order_by(ChatGroup.id)
        .limit(1)
    )
    return allowed is not False


def _reporter_ids(session: Session, ticket: Ticket) -> list[str]:
    ids = [r.person_id for r in ticket.reporters] or ([ticket.reporter_id] if ticket.reporter_id else [])
    if not ids:
        return []
    rows = session.scalars(select(Person.platform_id).where(Person.id.in_(ids))).all()
    return [p for p in rows if p]


def _text(event: TicketEvent, ticket: Ticket, actor_name: str, assignee: str | None) -> str | None:
    no, cat = ticket.number, ticket.category_label or ticket.category
    what = "问题" if ticket.kind.value == "incident" else "诉求"
    note = f"：{event.note}" if event.note else ""
    texts = {
        "accept": f"您反映的【{cat}】{what}（工单 {no}）已由网格员{actor_name}受理，正在处理。",
        "respond": f"网格员{actor_name}回复工单 {no}{note}",
        "resolve": f"您反映的【{cat}】{what}（工单 {no}）已办结{note}。{RATING_PROMPT}",
        "suspend": f"工单 {no} 暂时挂起{note}",
        "resume": f"工单 {no} 已恢复处理。",
        "transfer": f"工单 {no} 已转派给{assignee or '其他网格员'}处理。",
        "merge": f"您反映的{what}与工单 #{event.data.get('into')} 相同，已合并处理。",
        "reject": f"工单 {no} 已退回{note}",
        "reopen": f"工单 {no} 已重新办理（重办），网格员会尽快跟进。",
    }
    return texts.get(event.action)


def announce(session: Session, ticket: Ticket, event: TicketEvent, now: datetime) -> None:
    """Queue the group announcement of one ticket event, @-mentioning the reporters."""
    room = grid_room(session, ticket.grid_id)
    if room is None:
        return
    actor = session.get(Person, event.actor_id) if event.actor_id else None
    assignee = session.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    text = _text(event, ticket, actor.name if actor else "", assignee.name if assignee else None)
    if text is None:
        return
    enqueue(
        session,
        dedupe_key=f"event:{event.id}",
        kind=OutboxKind.NOTICE,
        text=text,
        now=now,
        room_id=room,
        mention_ids=_reporter_ids(session, ticket),
        ticket_id=ticket.id,
    )

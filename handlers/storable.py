"""Make an inbound message storable whatever the platform sent: one bad field must not lose it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gridbot.handlers.types import IncomingMessage
from gridbot.models.entities import ChatGroup, Message, Person
from gridbot.models.enums import MessageType, Role
from gridbot.models.messaging import inbox
from gridbot.nlp.normalize import normalize
from gridbot.nlp.pii import mask

NAME_MAX = 100  # persons.name
TOPIC_MAX = 200  # chat_groups.topic
ID_MAX = 128  # platform ids


def _storable_text(text: str) -> str:
    """Lone UTF-16 surrogates (an emoji cut in half) as U+FFFD, NUL dropped: the databases refuse both."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\x00", "")


def storable(msg: IncomingMessage) -> IncomingMessage:
    """The message with every free text made storable and cut to its column's length."""
    quoted = msg.quoted_text
    return replace(
        msg,
        text=_storable_text(msg.text),
        sender_name=_storable_text(msg.sender_name)[:NAME_MAX],
        room_topic=_storable_text(msg.room_topic)[:TOPIC_MAX],
        quoted_text=None if quoted is None else _storable_text(quoted),
        quoted_platform_id=None if msg.quoted_platform_id is None else msg.quoted_platform_id[:ID_MAX],
    )


def inbound_row(
    msg: IncomingMessage, group: inbox.Placement, sender_id: int, role: Role | None, now: datetime
) -> dict[str, Any]:
    """The row an inbound message is stored as (PENDING), its text masked once here; a photo, file or voice
    without a caption is stored as 「[image]」 and the like, so every message has a text."""
    text = msg.text if msg.msg_type is MessageType.TEXT else (msg.text or f"[{msg.msg_type.value}]")
    return inbox.inbound_row(
        platform_id=msg.platform_id,
        group=group,
        sender_id=sender_id,
        sender_role=role,
        msg_type=msg.msg_type,
        text=text,
        text_masked=mask(normalize(text)),
        sent_at=msg.sent_at,
        now=now,
        mentions=msg.mentions,
        quoted_platform_id=msg.quoted_platform_id,
    )


def rebuild(session: Session, m: Message) -> IncomingMessage | None:
    """The inbound message as the transport delivered it, from its stored row (for recovery)."""
    group = session.get(ChatGroup, m.group_id) if m.group_id else None
    person = session.get(Person, m.sender_id) if m.sender_id else None
    if group is None or person is None or person.platform_id is None:
        return None
    return IncomingMessage(
        platform_id=m.platform_id,
        room_id=group.room_id,
        sender_id=person.platform_id,
        sender_name=person.name,
        text=m.text or "",
        sent_at=m.sent_at,
        msg_type=m.msg_type,
        mentions=tuple(m.mentions or ()),
        quoted_platform_id=m.quoted_platform_id,
    )

"""Turning python-wechaty objects into the handler-facing values (no wechaty object leaves bot/)."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridbot.handlers.types import IncomingMessage, MemberChange, mention_ids
from gridbot.models.enums import MemberEventKind, MessageType

logger = logging.getLogger(__name__)

# wechaty-grpc MessageType names → (our type, placeholder text, whether it carries a file).
_TYPES: dict[str, tuple[MessageType, str, bool]] = {
    "MESSAGE_TYPE_TEXT": (MessageType.TEXT, "", False),
    "MESSAGE_TYPE_IMAGE": (MessageType.IMAGE, "[图片]", True),
    "MESSAGE_TYPE_ATTACHMENT": (MessageType.FILE, "[文件]", True),
    "MESSAGE_TYPE_VIDEO": (MessageType.FILE, "[视频]", True),
    "MESSAGE_TYPE_AUDIO": (MessageType.VOICE, "[语音]", True),
    "MESSAGE_TYPE_EMOTICON": (MessageType.OTHER, "[表情]", False),
    "MESSAGE_TYPE_URL": (MessageType.OTHER, "[链接]", False),
    "MESSAGE_TYPE_MINI_PROGRAM": (MessageType.OTHER, "[小程序]", False),
    "MESSAGE_TYPE_LOCATION": (MessageType.OTHER, "[位置]", False),
    "MESSAGE_TYPE_CONTACT": (MessageType.OTHER, "[名片]", False),
    "MESSAGE_TYPE_CHAT_HISTORY": (MessageType.OTHER, "[聊天记录]", False),
}
_OTHER = (MessageType.OTHER, "[其他消息]", False)

# How puppets render a WeChat quote-reply as text: the quote first, then a dashed line, then the
# reply (padlocal and most web/pad protocols); some put the reply first and the quote last.
_QUOTE_FIRST = re.compile(
    r"^「(?P<name>[^：:」]{1,64})[：:](?P<quoted>.*?)」\s*\n-(?: -)+\s*\n(?P<reply>.*)$", re.S
)
_QUOTE_LAST = re.compile(r"^(?P<reply>.*?)\n「(?P<name>[^：:」]{1,64})[：:](?P<quoted>.*?)」\s*$", re.S)


@dataclass(frozen=True)
class Quote:
    """A quote-reply found in a message text."""

    reply: str
    quoted_name: str
    quoted_text: str


def split_quote(text: str) -> Quote | None:
    """Find a WeChat quote-reply in `text`, or None."""
    match = _QUOTE_FIRST.match(text) or _QUOTE_LAST.match(text)
    if match is None:
        return None
    return Quote(match["reply"].strip(), match["name"].strip(), match["quoted"].strip())


def strip_mention(text: str, names: tuple[str, ...]) -> tuple[str, bool]:
    """Remove `@<name>` for each of the bot's names; return the text and whether one was found."""
    found = False
    for name in names:
        if not name:
            continue
        pattern = re.compile(rf"@{re.escape(name)}(?:[\u2005\u0020]|$)")
        text, count = pattern.subn("", text)
        found = found or count > 0
    return text.strip(), found


def to_utc(timestamp: float) -> datetime:
    """A puppet timestamp (seconds or milliseconds since the epoch) as an aware UTC datetime."""
    if timestamp <= 0:
        return datetime.now(UTC)
    if timestamp > 2_145_888_000:  # beyond 2038 in seconds: it is milliseconds
        timestamp /= 1000
    return datetime.fromtimestamp(timestamp, tz=UTC)


def message_kind(type_name: str) -> tuple[MessageType, str, bool]:
    """Our message type, placeholder text and whether a file can be fetched, for a wechaty type."""
    return _TYPES.get(type_name, _OTHER)


_UNSAFE = re.compile(r"[^\w.\-]+")


def attachment_name(message_id: str, file_name: str) -> str:
    """A file name safe to create in the attachments folder."""
    base = _UNSAFE.sub("_", Path(file_name or "file").name).strip("._") or "file"
    return f"{_UNSAFE.sub('_', message_id)[:80]}_{base[-100:]}"


async def save_attachment(msg: Any, folder: Path, timeout_s: float) -> str | None:
    """Fetch a message's file into `folder`; None when the puppet cannot deliver it in time."""
    try:
        box = await asyncio.wait_for(msg.to_file_box(), timeout_s)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / attachment_name(str(msg.message_id), str(getattr(box, "name", "") or ""))
        # FileBox.to_file is async but blocks on `requests` for URL boxes: run it off the loop.
        await asyncio.wait_for(asyncio.to_thread(_write_box, box, str(path)), timeout_s)
    except Exception as exc:  # the puppet's errors are untyped; a placeholder is the fallback
        logger.warning("wechaty: attachment of message %s not saved: %s", msg.message_id, type(exc).__name__)
        return None
    return str(path)


def _write_box(box: Any, path: str) -> None:
    asyncio.run(box.to_file(path, overwrite=True))


_AT_NAME = re.compile(r"@([^\s@\u2005]{1,64})")

Member = tuple[str, str, str]  # (platform id, WeChat name, name in this room)


def resolve_mentions(
    text: str, explicit: tuple[str, ...], members: list[Member]
) -> tuple[tuple[str, str], ...]:
    """(platform id, name) of each @-mention, by id from WeChat's mention list, else from the member list.

    A hand-typed `@Name` (no mention list) is matched against every member's room name and WeChat
    name; all matches are returned so the handler can refuse a clash rather than guess.
    """
    by_id = {m[0]: m for m in members}
    if explicit:
        return tuple((cid, (by_id[cid][2] or by_id[cid][1]) if cid in by_id else "") for cid in explicit)
    found: list[tuple[str, str]] = []
    for name in _AT_NAME.findall(text):
        found += [(cid, alias or wx) for cid, wx, alias in members if name in (wx, alias)]
    return tuple(found)


async def room_members(puppet: Any, room_id: str, only: tuple[str, ...] = ()) -> list[Member]:
    """The room's members (or just `only`) with their names (members who never spoke included)."""
    out: list[Member] = []
    for contact_id in only or await puppet.room_members(room_id):
        payload = await puppet.room_member_payload(room_id, contact_id)
        out.append(
            (
                str(contact_id),
                str(getattr(payload, "name", "") or ""),
                str(getattr(payload, "room_alias", "") or ""),
            )
        )
    return out


def sender_handles(payload: Any) -> tuple[str, ...]:
    """The WeChat id and phones the puppet reports for a contact (to match imported staff)."""
    handles = [str(getattr(payload, "weixin", "") or "")]
    handles += [str(p) for p in (getattr(payload, "phone", None) or ()) if p]
    return tuple(h for h in handles if h)


async def to_incoming(
    msg: Any, bot_id: str, bot_names: tuple[str, ...], attachments: Path, attachment_timeout_s: float
) -> IncomingMessage | None:
    """Build an IncomingMessage from a ready wechaty Message; None for the bot's own and non-room ones."""
    payload = msg.payload
    if not payload.room_id or payload.from_id == bot_id:
        return None
    room = msg.room()
    talker = msg.talker()
    await room.ready()
    await talker.ready()
    msg_type, placeholder, has_file = message_kind(msg.type().name)
    text = str(payload.text or "")
    mentioned = mention_ids(list(payload.mention_ids or ()))
    quote = split_quote(text) if msg_type is MessageType.TEXT else None
    if quote is not None:
        text = quote.reply
    text, named = strip_mention(text, bot_names)
    attachment = await save_attachment(msg, attachments, attachment_timeout_s) if has_file else None
    names: tuple[tuple[str, str], ...] = ()
    others = tuple(m for m in mentioned if m != bot_id)
    if others or (msg_type is MessageType.TEXT and "@" in text):
        try:
            members = await room_members(msg.puppet, str(payload.room_id), others)
        except Exception as exc:  # the puppet's errors are untyped; without names the handler asks to @ again
            logger.warning("wechaty: member list of a room unavailable: %s", type(exc).__name__)
            members = []
        names = resolve_mentions(text, others, members)
    return IncomingMessage(
        platform_id=str(msg.message_id),
        room_id=str(payload.room_id),
        sender_id=str(payload.from_id),
        sender_name=str(talker.name or ""),
        text=text or placeholder,
        sent_at=to_utc(float(payload.timestamp or 0)),
        msg_type=msg_type,
        room_topic=str(room.payload.topic or ""),
        mentions=mentioned,
        mentions_bot=named or bot_id in mentioned,
        mention_names=names,
        sender_handles=sender_handles(talker.payload),
        quoted_text=quote.quoted_text if quote else None,
        attachment_path=attachment,
    )


async def to_member_change(bot: Any, kind: MemberEventKind, payload: Any, ids: list[str]) -> MemberChange:
    """Build a MemberChange from a room-join/room-leave puppet event (names and the new count)."""
    members = []
    for contact_id in ids:
        contact = bot.Contact.load(contact_id)
        await contact.ready()
        members.append((str(contact_id), str(contact.name or "")))
    count = len(await bot.puppet.room_members(payload.room_id))
    return MemberChange(
        str(payload.room_id), kind, tuple(members), to_utc(float(payload.timestamp or 0)), count
    )

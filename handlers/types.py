"""What the conversation layer sees of a chat platform: plain frozen values, no transport objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from gridbot.models.enums import MemberEventKind, MessageType


@dataclass(frozen=True)
class IncomingMessage:
    """One message as the adapter saw it (`room_id` empty: a private chat); `text` has the bot's @-mention stripped."""

    platform_id: str
    room_id: str
    sender_id: str
    sender_name: str
    text: str
    sent_at: datetime
    msg_type: MessageType = MessageType.TEXT
    room_topic: str = ""
    mentions: tuple[str, ...] = ()  # platform ids of the contacts @-mentioned
    # (platform id, name in the room) of each @-mention, resolved by the adapter from the room's
    # member list, so a member who never spoke can be appointed; an @Name typed by hand that
    # matches several members yields all of them (the handler refuses the clash)
    mention_names: tuple[tuple[str, str], ...] = ()
    # further ids the platform reports for the sender (WeChat id, phone): match imported staff
    sender_handles: tuple[str, ...] = ()
    mentions_bot: bool = False
    quoted_platform_id: str | None = None
    quoted_text: str | None = None
    attachment_path: str | None = None

    @property
    def is_private(self) -> bool:
        """A private (one-to-one) message to the bot rather than a room message."""
        return not self.room_id


@dataclass(frozen=True)
class MemberChange:
    """People joined or left a room."""

    room_id: str
    kind: MemberEventKind
    members: tuple[tuple[str, str], ...]  # (platform id, display name)
    at: datetime
    member_count: int | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to deliver: to a room (with @-mentions) or, when room_id is None, to one contact."""

    text: str
    room_id: str | None = None
    mention_ids: tuple[str, ...] = field(default_factory=tuple)
    to_contact_id: str | None = None
    outbox_ids: tuple[int, ...] = ()  # the outbox rows this message delivers (merged replies: several)


class Sender(Protocol):
    """Delivers one outgoing message; returns the platform's message id when it tells one."""

    async def send(self, message: OutgoingMessage) -> str | None: ...


@runtime_checkable
class ConfirmingSender(Sender, Protocol):
    """A sender that can tell, after a crash, which outbox rows the platform already accepted."""

    async def confirm_delivered(self, outbox_ids: Sequence[int]) -> set[int] | None:
        """The subset of `outbox_ids` already delivered; None when the platform cannot tell."""
        ...


def mention_ids(ids: Sequence[str]) -> tuple[str, ...]:
    """Normalise a mention list: no blanks, no repeats, order kept."""
    return tuple(dict.fromkeys(i for i in ids if i))


@dataclass
class Outcome:
    """What happened to one message (for the replay printout and tests)."""

    status: str
    ticket: int | None = None
    kind: str | None = None

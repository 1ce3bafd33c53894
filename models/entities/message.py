"""Every inbound and outbound message, and the outbox that paces the bot's sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridbot.models.entities.base import Base, str_enum, utcnow
from gridbot.models.enums import MessageDirection, MessageStatus, MessageType, OutboxKind, OutboxStatus, Role


class Message(Base):
    """A group message, persisted before anything else happens to it (UNIQUE platform id)."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_group_sent", "group_id", "sent_at"),
        Index("ix_messages_grid_sent", "grid_id", "sent_at"),
        Index("ix_messages_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(128), unique=True)
    direction: Mapped[MessageDirection] = mapped_column(str_enum(MessageDirection))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    sender_role: Mapped[Role | None] = mapped_column(str_enum(Role))
    msg_type: Mapped[MessageType] = mapped_column(str_enum(MessageType), default=MessageType.TEXT)
    text: Mapped[str | None] = mapped_column(Text)
    text_masked: Mapped[str] = mapped_column(Text, default="")
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    quoted_platform_id: Mapped[str | None] = mapped_column(String(128))
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[MessageStatus] = mapped_column(str_enum(MessageStatus), default=MessageStatus.PENDING)
    kind: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float | None]
    classification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    text_purged_at: Mapped[datetime | None]  # when models.retention blanked the text (metrics kept)


class Outbox(Base):
    """A message the bot owes the group; written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # the daily send budgets count today's sends per account and per room
        Index("ix_outbox_sent_account", "status", "bot_account", "sent_at"),
        Index("ix_outbox_sent_room", "status", "room_id", "sent_at"),
        Index("ix_outbox_sent_day", "status", "sent_at", "room_id", "bot_account"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OutboxKind] = mapped_column(str_enum(OutboxKind))
    bot_account: Mapped[str | None] = mapped_column(String(128))
    room_id: Mapped[str | None] = mapped_column(String(128), index=True)
    recipient_platform_id: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    mention_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    platform_message_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(String(200))

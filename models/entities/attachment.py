"""Photos, files and voice messages: the stored file (by content hash) and what it is evidence of."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridbot.models.entities.base import Base, str_enum, utcnow
from gridbot.models.enums import AttachmentRole, AttachmentStatus, MessageType


class Attachment(Base):
    """One file a message carried (or a gridworker uploaded), linked to its message and ticket.

    The file lives in the attachments directory under its SHA-256 (no name a resident chose); a
    refused or undelivered file keeps its row with the reason, and the message is never lost.
    """

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_group_sender", "group_id", "sender_id", "created_at"),
        Index("ix_attachments_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    kind: Mapped[MessageType] = mapped_column(str_enum(MessageType))
    role: Mapped[AttachmentRole | None] = mapped_column(str_enum(AttachmentRole))
    status: Mapped[AttachmentStatus] = mapped_column(str_enum(AttachmentStatus))
    reason: Mapped[str | None] = mapped_column(String(32))  # why it was refused (too_large, type, …)
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size_bytes: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    needs_listening: Mapped[bool] = mapped_column(default=False)  # a voice message nobody has heard yet
    transcript_masked: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    linked_at: Mapped[datetime | None]

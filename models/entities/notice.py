"""Notices staff post in a grid's group, and who confirmed them (知晓率)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridbot.models.entities.base import Base, utcnow


class Notice(Base):
    """A notice posted in one grid's group (a region-wide notice is one row per grid, same batch)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_grid_created", "grid_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    room_id: Mapped[str] = mapped_column(String(128))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    text: Mapped[str] = mapped_column(Text)
    batch: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    remind_at: Mapped[datetime | None] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]


class NoticeTarget(Base):
    """A member a notice was meant for; `acked_at` once they replied 收到 (or quote-replied)."""

    __tablename__ = "notice_targets"
    __table_args__ = (
        UniqueConstraint("notice_id", "person_id"),
        Index("ix_notice_targets_person", "person_id", "acked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    acked_at: Mapped[datetime | None]
    ack_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    via: Mapped[str | None] = mapped_column(String(16))  # "reply" or "quote"
    late: Mapped[bool] = mapped_column(default=False)  # joined the audience after the notice was posted

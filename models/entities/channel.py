"""Channel bookkeeping that is not a message: replies handed to a person to post, intake cursors.

Platform-neutral: a *handoff* is a reply for a room the bot may not post in, prepared for the
responsible gridworker who posts it; an *intake cursor* is how far a pulled message source (an
archive) has been read, so a restart resumes there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridbot.models.entities.base import Base, utcnow


class Handoff(Base):
    """A reply the bot may not post itself: the gridworker posts it; done when it is seen in the room."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_room_open", "room_id", "done_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True)
    room_id: Mapped[str] = mapped_column(String(128))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # the outbox kind of the reply (reply, notice)
    assignee_platform_id: Mapped[str | None] = mapped_column(String(128))  # who is asked to post it
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]  # when the text was seen in the room (the resident could read it)
    done_message_id: Mapped[str | None] = mapped_column(String(128))


class IntakeCursor(Base):
    """How far a pulled source has been read (one row per source), and what it skipped."""

    __tablename__ = "intake_cursors"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    skipped_no_consent: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime | None]  # send time of the newest message taken
    lag_s: Mapped[float] = mapped_column(default=0.0)  # age of the oldest message not yet taken
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

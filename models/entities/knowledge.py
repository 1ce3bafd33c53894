"""The community knowledge base (常见问题) and the questions the bot answered from it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridbot.models.entities.base import Base, str_enum, utcnow


class EntryStatus(StrEnum):
    """Only ACTIVE entries answer residents; gridworkers' suggestions wait in PENDING_REVIEW."""

    ACTIVE = "active"
    PENDING_REVIEW = "pending_review"
    RETIRED = "retired"


class KnowledgeEntry(Base):
    """One question (with its variants) and its answer, for a city, street or community."""

    __tablename__ = "knowledge_entries"
    __table_args__ = (UniqueConstraint("region_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))  # the file's id; "ticket-42" for a taught entry
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200), default="")
    valid_until: Mapped[date | None]
    status: Mapped[EntryStatus] = mapped_column(str_enum(EntryStatus), default=EntryStatus.ACTIVE)
    from_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeAnswer(Base):
    """A resident's question the bot answered: its ticket (resolved at once, rated like any other)."""

    __tablename__ = "knowledge_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entries.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    score: Mapped[float]
    answered_at: Mapped[datetime]
    escalated_at: Mapped[datetime | None]  # the resident replied 人工

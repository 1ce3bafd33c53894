"""Each open ticket's duplicate-detection features, stored once, and the keys a new report finds it by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from gridbot.models.entities.base import Base


class TicketDupFeatures(Base):
    """A ticket's normalised duplicate features (JSON written by `gridbot.nlp.duplicates.dump`).

    `data` is NULL while pending: filed by a path that does not compute them (12345 work orders,
    tickets from before migration 0021) or whose text changed; the next duplicate check of the grid
    that reads the ticket scores it from its text and stores them.
    """

    __tablename__ = "ticket_dup_features"
    __table_args__ = (
        Index(
            "ix_ticket_dup_features_pending",
            "grid_id",
            "created_at",
            sqlite_where=text("data IS NULL"),
            postgresql_where=text("data IS NULL"),
        ),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    grid_id: Mapped[int]  # the ticket's, copied so the keys and pending rows are read by grid alone
    created_at: Mapped[datetime]  # the ticket's
    data: Mapped[str | None] = mapped_column(Text)


class TicketDupKey(Base):
    """One key a ticket is found by (its place, the thing it names, both): see `duplicates.index_keys`."""

    __tablename__ = "ticket_dup_keys"
    __table_args__ = (Index("ix_ticket_dup_keys_lookup", "grid_id", "key", "created_at"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    grid_id: Mapped[int]
    created_at: Mapped[datetime]

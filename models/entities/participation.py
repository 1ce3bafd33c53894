"""A resident's choice of how the monthly thank-you list shows them (the points are derived, not stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gridbot.models.entities.base import Base, utcnow


class ParticipationChoice(Base):
    """`积分 实名 / 匿名 / 不上榜`: one row per resident who chose; no row means masked."""

    __tablename__ = "participation_choices"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    display: Mapped[str] = mapped_column(String(8))  # "full", "masked" or "hidden"
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

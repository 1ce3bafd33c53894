"""API tokens: administrators' credentials, scoped to a role over a region subtree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gridbot.models.entities.base import Base, str_enum, utcnow
from gridbot.models.enums import Role


class ApiToken(Base):
    """A bearer token: only the SHA-256 of its secret is stored; the plain token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    # the audit-trail identity of actions taken with this token (a Person with no roles of its own)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

"""API tokens: administrators' credentials, scoped to a role over a region subtree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, false
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
    # the audited unmask role (effective only with GRIDBOT_API__UNMASK_ENABLED=true)
    may_unmask: Mapped[bool] = mapped_column(default=False, server_default=false())


class WebSession(Base):
    """A browser session (cookie) or a gridworker's one-time sign-in link; only sha256 of the secret is kept.

    kind "admin": a dashboard session opened with an API token (`token_id`), ends with the token.
    kind "worker": a gridworker's work-page session (`person_id`).
    kind "worker_link": the one-time link the bot sends privately; exchanged once for a "worker" session.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

"""The bot's connection health per WeChat account, as the watchdog last saw it (read by the API)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from gridbot.models.entities.base import Base, str_enum, utcnow


class BotState(StrEnum):
    """What the watchdog concluded about one bot account."""

    ONLINE = "online"
    WAITING_SCAN = "waiting_scan"  # the puppet shows a login QR code: an operator must scan it
    SILENT = "silent"  # logged in, but no message for the configured working time
    LOGGED_OUT = "logged_out"
    DISCONNECTED = "disconnected"
    STOPPED = "stopped"


class BotStatus(Base):
    """One row per bot account, overwritten on every watchdog check (updated_at is its heartbeat)."""

    __tablename__ = "bot_status"

    account: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[BotState] = mapped_column(str_enum(BotState))
    logged_in: Mapped[bool] = mapped_column(default=False)
    last_message_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # the login QR code's link while waiting for a scan (shown to admins: gridbot status, /readyz)
    login_url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

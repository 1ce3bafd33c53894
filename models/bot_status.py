"""The bot's connection health per account: the watchdog records it, the API and operators read it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.entities import BotState, BotStatus

_ERROR_LEN = 500


def record(
    session: Session,
    account: str,
    state: BotState,
    *,
    logged_in: bool,
    last_message_at: datetime | None,
    last_error: str | None,
    now: datetime,
) -> BotStatus:
    """Store what the watchdog saw for `account` now (one row per account, overwritten)."""
    row = session.get(BotStatus, account)
    if row is None:
        row = BotStatus(account=account)
        session.add(row)
    row.state = state
    row.logged_in = logged_in
    row.last_message_at = last_message_at
    row.last_error = last_error[:_ERROR_LEN] if last_error else None
    row.updated_at = now
    session.flush()
    return row


def read(session: Session, account: str) -> BotStatus | None:
    """The last recorded status of one account (None when the bot never ran)."""
    return session.get(BotStatus, account)


def read_all(session: Session) -> list[BotStatus]:
    """Every account's last recorded status, by account."""
    return list(session.scalars(select(BotStatus).order_by(BotStatus.account)))

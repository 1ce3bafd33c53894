"""The bot's connection health per account: the watchdog records it, the API and operators read it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gridbot.models.db import is_postgres
from gridbot.models.entities import BotState, BotStatus

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
    login_url: str | None = None,
) -> BotStatus:
    """Store what the watchdog saw for `account` now (one row per account, overwritten).

    An upsert: two instances of one account starting together must not collide on the first insert.
    """
    values = {
        "state": state,
        "logged_in": logged_in,
        "last_message_at": last_message_at,
        "last_error": last_error[:_ERROR_LEN] if last_error else None,
        "updated_at": now,
        "login_url": login_url[:_ERROR_LEN] if login_url else None,
    }
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = insert(BotStatus).values(account=account, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=[BotStatus.account], set_=values))
    row = session.get(BotStatus, account, populate_existing=True)
    assert row is not None
    return row


def forget(session: Session, account: str) -> None:
    """Drop an account's row (the pre-login placeholder once the real account id is known)."""
    row = session.get(BotStatus, account)
    if row is not None:
        session.delete(row)


def read(session: Session, account: str) -> BotStatus | None:
    """The last recorded status of one account (None when the bot never ran)."""
    return session.get(BotStatus, account)


def read_all(session: Session) -> list[BotStatus]:
    """Every account's last recorded status, by account."""
    return list(session.scalars(select(BotStatus).order_by(BotStatus.account)))

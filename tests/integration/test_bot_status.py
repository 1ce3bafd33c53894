"""The watchdog's per-account status row: one row per account, even when instances start together."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import BotState, BotStatus
from gridbot.models.messaging import bot_status

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_a_reading_overwrites_the_last_one(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        bot_status.record(
            s, "wxid_bot", BotState.ONLINE, logged_in=True, last_message_at=T0, last_error=None, now=T0
        )
    with session_factory.begin() as s:
        row = bot_status.record(
            s,
            "wxid_bot",
            BotState.DISCONNECTED,
            logged_in=False,
            last_message_at=T0,
            last_error="x" * 900,
            now=T0 + timedelta(minutes=1),
        )
        assert row.state is BotState.DISCONNECTED and row.last_error == "x" * 500
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(BotStatus)) == 1
        assert s.get_one(BotStatus, "wxid_bot").updated_at == T0 + timedelta(minutes=1)


def test_instances_of_one_account_starting_together_do_not_collide(
    pg_session_factory: sessionmaker[Session],
) -> None:
    """Each instance's watchdog writes the account's first row at start: an upsert, not read-then-insert."""
    start, errors = threading.Barrier(6), []

    def first_reading(n: int) -> None:
        try:
            start.wait()
            with pg_session_factory.begin() as s:
                bot_status.record(
                    s,
                    "wxid_shared",
                    BotState.ONLINE,
                    logged_in=True,
                    last_message_at=None,
                    last_error=None,
                    now=T0 + timedelta(seconds=n),
                )
        except Exception as exc:  # collected: an exception in a thread would not fail the test
            errors.append(exc)

    threads = [threading.Thread(target=first_reading, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with pg_session_factory() as s:
        assert s.scalar(select(func.count()).select_from(BotStatus)) == 1

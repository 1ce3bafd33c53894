"""One instance at a time: the CLI's rollup and purge commands take the bot's locks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from gridbot.cli import _register, app
from gridbot.models import jobs
from gridbot.models.db import make_session_factory
from gridbot.models.entities import utcnow
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.settings import get_settings
from tests.pg import url_of

pytestmark = pytest.mark.integration


def _key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@pytest.fixture
def held_by_another(pg_engine: Engine) -> Iterator[None]:
    """Another instance (a second connection) holds the rollup and retention advisory locks."""
    with pg_engine.connect() as conn, conn.begin():
        for name in ("gridbot:rollups", "gridbot:retention"):
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _key(name)})
        yield


def test_jobs_step_aside_while_another_instance_runs_them(pg_engine: Engine, held_by_another: None) -> None:
    sessions, now = make_session_factory(pg_engine), utcnow()
    assert jobs.refresh_changed_rollups(sessions, LocalCoordinator(), now - timedelta(minutes=5), now) is None
    assert jobs.backfill_rollups(sessions, LocalCoordinator(), now.date(), now.date()) is None
    assert jobs.purge_text(sessions, LocalCoordinator(), now, 30) is None


def test_jobs_run_when_free(pg_engine: Engine) -> None:
    sessions, now = make_session_factory(pg_engine), utcnow()
    assert (
        jobs.refresh_changed_rollups(sessions, LocalCoordinator(), now - timedelta(minutes=5), now)
        is not None
    )
    assert jobs.purge_text(sessions, LocalCoordinator(), now, 30) == 0


def test_the_cli_refuses_while_the_bot_holds_the_lock(
    pg_engine: Engine, held_by_another: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDBOT_DB__URL", url_of(pg_engine))
    monkeypatch.delenv("GRIDBOT_REDIS__URL", raising=False)
    get_settings.cache_clear()
    _register()
    try:
        runner = CliRunner()
        for argv in (["rollup", "changed"], ["db", "purge-text", "--days", "30"]):
            out = runner.invoke(app, argv)
            assert out.exit_code == 3, out.output
            assert "another instance" in out.output
    finally:
        get_settings.cache_clear()

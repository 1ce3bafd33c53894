"""Token lifetime by default and `gridbot token rotate`: the new token works, the old one stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from gridbot.cli import app
from gridbot.models.db import make_session_factory
from gridbot.models.entities import ApiToken
from gridbot.models.org.tokens import TokenInvalid, verify_token
from tests.api.test_cli_api import cli_db  # noqa: F401 - the CLI's database fixture


def _token(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_default_lifetime_and_rotation(cli_db: str, sqlite_engine: Engine) -> None:  # noqa: F811
    runner = CliRunner()
    out = runner.invoke(app, ["token", "create", "--role", "community-admin", "--region", "NJ-GL-HL-01"])
    assert out.exit_code == 0, out.output
    old = _token(out.output)
    sessions = make_session_factory(sqlite_engine)
    with sessions() as s:
        row = s.scalars(select(ApiToken)).one()
        assert row.expires_at is not None  # 90 days by default (GRIDBOT_API__TOKEN_LIFETIME_DAYS)
        assert (
            timedelta(days=89) < row.expires_at.replace(tzinfo=UTC) - datetime.now(UTC) <= timedelta(days=90)
        )

    rotated = runner.invoke(app, ["token", "rotate", "1", "--grace-hours", "2"])
    assert rotated.exit_code == 0, rotated.output
    new = _token(rotated.output)
    assert new.startswith("gb_") and new != old and "new token 2" in rotated.output
    with sessions.begin() as s:
        now = datetime.now(UTC)
        first, second = verify_token(s, old, now), verify_token(s, new, now)
        assert (first.role, first.region_id, first.actor.person_id) == (
            second.role,
            second.region_id,
            second.actor.person_id,
        )  # same holder: the ticket trails read as one person
        with pytest.raises(TokenInvalid):
            verify_token(s, old, now + timedelta(hours=3))  # the grace ended
        verify_token(s, new, now + timedelta(hours=3))

    assert runner.invoke(app, ["token", "rotate", "2"]).exit_code == 0  # no grace: revoked at once
    with sessions() as s, pytest.raises(TokenInvalid):
        verify_token(s, new)
    again = runner.invoke(app, ["token", "rotate", "2"])
    assert again.exit_code == 2 and "已失效" in again.output
    assert runner.invoke(app, ["token", "rotate", "99"]).exit_code == 2

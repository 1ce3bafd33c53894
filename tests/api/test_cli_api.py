"""`gridbot token create|list|revoke` and `gridbot api` served by a real uvicorn on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from gridbot.cli import _register, app
from gridbot.models.db import make_session_factory
from gridbot.models.settings import get_settings
from tests.conftest import build_world


@pytest.fixture
def cli_db(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The migrated SQLite test database with the World in it, as the CLI's configured database."""
    with make_session_factory(sqlite_engine).begin() as session:
        build_world(session)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GRIDBOT_DB__URL", url)
    get_settings.cache_clear()
    _register()
    yield url
    get_settings.cache_clear()


def test_token_create_list_revoke(cli_db: str) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["token", "create", "--role", "community-admin", "--region", "NJ-GL-HL-01"])
    assert out.exit_code == 0, out.output
    header, token = out.output.strip().splitlines()
    assert header.startswith("token 1 for community-admin of 五台山社区") and token.startswith("gb_")
    listed = runner.invoke(app, ["token", "list"]).output
    assert "\tcommunity_admin\t" in listed and "active" in listed and token not in listed
    assert runner.invoke(app, ["token", "revoke", "1"]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["token", "list"]).output
    wrong = runner.invoke(app, ["token", "create", "--role", "street-admin", "--region", "NJ-GL-HL-01"])
    assert wrong.exit_code == 2 and "层级" in wrong.output
    missing = runner.invoke(app, ["token", "create", "--role", "city-admin", "--region", "nowhere"])
    assert missing.exit_code == 2 and "没有找到区域 nowhere" in missing.output
    assert runner.invoke(app, ["token", "revoke", "99"]).exit_code == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.e2e
def test_gridbot_api_serves_over_loopback(cli_db: str, tmp_path: Path) -> None:
    out = CliRunner().invoke(
        app, ["token", "create", "--role", "city-admin", "--region", "NJ", "--expires-days", "1"]
    )
    token = out.output.strip().splitlines()[-1]
    port = _free_port()
    env = {**os.environ, "GRIDBOT_DB__URL": cli_db}
    cmd = [
        sys.executable,
        "-c",
        "from gridbot.cli import main; main()",
        "api",
        "--port",
        str(port),
        "--json-logs",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        tickets = httpx.get(f"{base}/tickets", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert tickets.status_code == 200 and tickets.json() == {"items": [], "next_cursor": None}
        assert httpx.get(f"{base}/tickets", timeout=5).status_code == 401
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert token not in output  # never logged
    assert '"level": "INFO"' in output  # JSON log lines

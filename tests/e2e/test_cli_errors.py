"""The `gridbot` command answers bad setups with one clear line, not a traceback wall."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def gridbot(*args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed console script's entry point in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", "from gridbot.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_database_down_at_start_is_a_clear_error(tmp_path: Path) -> None:
    down = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"
    result = gridbot("db", "upgrade", env={"GRIDBOT_DB__URL": down}, cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot reach the database postgresql+psycopg://postgres@127.0.0.1:1/nothing" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_transcript_names_its_line(tmp_path: Path) -> None:
    transcript = tmp_path / "bad.jsonl"
    transcript.write_text(
        '{"id": "m1", "t": "2026-11-23T08:00:00+08:00", "room": "r@chatroom", "sender": "a", "text": "早"}\n'
        '{"id": "m2", "t": "not a time", "room": "r@chatroom", "sender": "a", "text": "hi"}\n',
        encoding="utf-8",
    )
    result = gridbot("demo", "--transcript", str(transcript), "--db", str(tmp_path / "d.db"), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{transcript}:2:" in result.stderr
    assert "Traceback" not in result.stderr

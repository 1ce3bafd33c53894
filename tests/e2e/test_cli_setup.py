"""First run from the command line: setup mistakes in one line, doctor healthy and broken, init."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.test_cli_errors import gridbot

pytestmark = pytest.mark.e2e


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean setup in tmp_path: SQLite there, no Redis, no gateway (cwd has no .env)."""
    clean = {k: "" for k in os.environ if k.startswith("GRIDBOT_") and not k.startswith("GRIDBOT_TEST_")}
    return {**clean, "GRIDBOT_DB__URL": f"sqlite:///{tmp_path / 'g.db'}", **extra}


def test_before_db_upgrade_a_command_says_to_run_it(tmp_path: Path) -> None:
    result = gridbot("org", "list", env=env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: the database has no gridbot tables yet: run `gridbot db upgrade` first."
    )


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("GRIDBOT_DB__URL", "nonsense", "GRIDBOT_DB__URL is not a usable database URL"),
        ("GRIDBOT_OUTBOX__MIN_INTERVAL_S", "abc", "setting GRIDBOT_OUTBOX__MIN_INTERVAL_S='abc' is invalid"),
        ("GRIDBOT_REDIS__URL", "localhost:6379", "GRIDBOT_REDIS__URL is not a Redis URL"),
    ],
)
def test_setup_mistakes_are_one_or_two_lines(tmp_path: Path, setting: str, value: str, expected: str) -> None:
    assert gridbot("db", "upgrade", env=env(tmp_path), cwd=tmp_path).returncode == 0
    command = ("api", "--port", "1") if setting == "GRIDBOT_REDIS__URL" else ("token", "list")
    result = gridbot(*command, env=env(tmp_path, **{setting: value}), cwd=tmp_path)
    assert result.returncode != 0
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    debug = gridbot("--debug", *command, env=env(tmp_path, **{setting: value}), cwd=tmp_path)
    if setting == "GRIDBOT_OUTBOX__MIN_INTERVAL_S":  # the others are checked before use
        assert "Traceback" in debug.stderr


def test_doctor_broken_then_healthy(tmp_path: Path) -> None:
    broken = gridbot("doctor", env=env(tmp_path, GRIDBOT_REDIS__URL="redis://127.0.0.1:1/0"), cwd=tmp_path)
    assert broken.returncode == 1
    lines = broken.stdout.splitlines()
    assert "✗ 数据库：" in lines[0] and "→ 运行 gridbot db upgrade" in lines[0]
    assert lines[1].startswith("✗ Redis：连不上") and "GRIDBOT_REDIS__URL" in lines[1]
    assert gridbot("db", "upgrade", env=env(tmp_path), cwd=tmp_path).returncode == 0
    holidays = tmp_path / "h.yaml"
    next_year = 2027
    holidays.write_text(
        f"{next_year}:\n  source: test\n  holidays: [{next_year}-01-01]\n  workdays: []\n", encoding="utf-8"
    )
    healthy_env = env(tmp_path, GRIDBOT_SLA__HOLIDAYS_FILE=str(tmp_path / "store.yaml"))
    assert gridbot("calendar", "import", str(holidays), env=healthy_env, cwd=tmp_path).returncode == 0
    healthy = gridbot("doctor", env=healthy_env, cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stdout
    out = healthy.stdout
    assert "✓ 数据库：" in out and "✓ Redis：未配置" in out and "✓ 节假日日历：已有 2026、2027 年" in out
    assert "✓ 分类模型" in out and "✓ 时区：Asia/Shanghai" in out
    assert "! 微信通道：未配置" in out  # a warning, not a failure: console and demo still work


def test_help_and_version(tmp_path: Path) -> None:
    assert gridbot("--version", cwd=tmp_path).stdout.startswith("gridbot ")
    shown = gridbot("org", "import", "-h", cwd=tmp_path).stdout
    assert "--dry-run" in shown and "<bool>" not in shown

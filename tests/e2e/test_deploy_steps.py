"""The README's deploy steps, in order, on an empty database, without Docker (scripts/deploy-check)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_ENV, REPO_ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A new, empty PostgreSQL database when the test server is configured, else a new SQLite file."""
    url = os.environ.get(PG_ENV)
    if not url:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"gridbot_deploy_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_readme_deploy_steps_work_on_an_empty_database(tmp_path: Path, empty_database: str) -> None:
    work = tmp_path / "street-office"
    work.mkdir()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_") or k.startswith("GRIDBOT_TEST_")
    }
    env |= {
        "GRIDBOT_DB__URL": empty_database,
        "WORKDIR": str(work),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": str(REPO_ROOT),
    }
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "deploy-check")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "3/4 组织架构已导入" in out and "市管理员令牌" in out
    assert "网格 320102001001-01 大悲巷第一网格（320 户）网格员 王芳" in out
    assert "✓ 数据库：" in out and "✗" not in out
    assert "已认出您是王芳（网格员）" in out
    assert "Traceback" not in result.stderr
    assert (work / ".env").stat().st_mode & 0o077 == 0  # the token and passwords are not world-readable

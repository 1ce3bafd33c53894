"""`gridbot run` and `gridbot classify` start without the modules they do not need (start-up time).

Each import below cost the bot's first handled message tens of milliseconds; a stray top-level import
would bring one back silently, so the CLI is run as a subprocess and reports its own `sys.modules`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from gridbot.bot.demo import setup_world
from gridbot.bot.replay import Line
from gridbot.models.db import make_session_factory
from gridbot.models.entities import Ticket
from gridbot.models.migrate import upgrade

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOM = "startup-room@chatroom"
REPORT = "3栋2单元的楼道灯坏了好几天了，晚上上楼很黑"
# Never needed before the first message of a journal-transport bot without Redis.
NOT_ON_RUN = (
    "alembic",  # the revision check reads the version table and the migration files' identifiers
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "redis",
    "wechaty",
    "sklearn",
    "scipy",  # the fast model's inference is numpy only
    "prometheus_client",  # the bot's own metrics only with GRIDBOT_BOT_METRICS_PORT
    "torch",  # the transformers backend only when chosen
    "transformers",
    "openpyxl",  # exports
    "qrcode",  # the WeChat login QR code
)
NOT_ON_CLASSIFY = (*NOT_ON_RUN, "sqlalchemy", "pydantic_settings", "psycopg")
# Runs the CLI in-process, then writes which of the named top-level modules it had loaded.
CHILD = """
import json, os, sys
from gridbot.cli import main
try:
    main()
except SystemExit as exc:
    if exc.code:
        raise
names = json.loads(os.environ["CHECK_MODULES"])
loaded = sorted(n for n in names if n in sys.modules)
open(os.environ["CHECK_OUT"], "w").write(json.dumps(loaded))
"""


def _env(tmp_path: Path, names: tuple[str, ...], **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "CHECK_MODULES": json.dumps(names),
        "CHECK_OUT": str(tmp_path / "loaded.json"),
        **extra,
    }
    env.pop("GRIDBOT_REDIS__URL", None)
    return env


def test_classify_loads_no_database_web_or_training_module(tmp_path: Path) -> None:
    env = _env(tmp_path, NOT_ON_CLASSIFY)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "classify", REPORT],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["category"] == "property"  # it did classify
    assert json.loads((tmp_path / "loaded.json").read_text()) == []


def test_run_handles_a_report_without_alembic_web_or_scipy(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'gridbot.db'}"
    engine = create_engine(db)
    upgrade(engine)
    staff = [Line("s0", datetime.now(UTC), ROOM, "wx-wang", "小王", "gridworker", "")]
    with make_session_factory(engine).begin() as session:
        setup_world(session, staff)
    journal = tmp_path / "journal"
    journal.mkdir()
    line = {"id": "r1", "room": ROOM, "sender": "wx-r1", "name": "居民", "text": REPORT}
    (journal / "inbound.jsonl").write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    env = _env(tmp_path, NOT_ON_RUN, GRIDBOT_DB__URL=db, GRIDBOT_SPOOL_DIR=str(tmp_path / "spool"))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, "run", "--transport", "journal", "--journal-dir", str(journal)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    handled = journal / "handled.jsonl"
    try:
        deadline = time.monotonic() + 120
        while not (handled.exists() and "r1" in handled.read_text(encoding="utf-8")):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the report was not handled: {proc.returncode} {proc.communicate()[1][-2000:]}")
            time.sleep(0.05)  # another process's file: nothing to await
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr[-2000:]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Ticket)).scalar_one() == 1  # classified, filed
    engine.dispose()
    assert json.loads((tmp_path / "loaded.json").read_text()) == []

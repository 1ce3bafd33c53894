"""`gridbot run` stops cleanly on SIGTERM (docker stop, systemd): last round done, STOPPED recorded, exit 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from gridbot.models.entities import BotState, BotStatus
from gridbot.models.migrate import upgrade

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def wait_for(check: object, what: str, proc: subprocess.Popen[str], timeout_s: float = 90.0) -> None:
    """Poll an external process's files until `check()` holds (nothing to await across processes)."""
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        if proc.poll() is not None:
            pytest.fail(
                f"gridbot exited with {proc.returncode} before {what}: {proc.communicate()[1][-2000:]}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_bot_cleanly(tmp_path: Path, signum: signal.Signals) -> None:
    db = f"sqlite:///{tmp_path / 'gridbot.db'}"
    engine = create_engine(db)
    upgrade(engine)
    journal = tmp_path / "journal"
    journal.mkdir()
    env = {
        **os.environ,
        "GRIDBOT_DB__URL": db,
        "GRIDBOT_SPOOL_DIR": str(tmp_path / "spool"),
        "GRIDBOT_INSTANCE_ID": "shutdown-test",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from gridbot.cli import main; main()",
            "run",
            "--transport",
            "journal",
            "--journal-dir",
            str(journal),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = {"id": "m1", "room": "unbound@chatroom", "sender": "wx-a", "name": "张阿姨", "text": "早上好"}
        (journal / "inbound.jsonl").write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
        handled = journal / "handled.jsonl"
        wait_for(lambda: handled.exists() and "m1" in handled.read_text(encoding="utf-8"), "m1 handled", proc)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr[-2000:]
    assert f"{signum.name} received: stopping" in stderr and "Traceback" not in stderr
    with engine.connect() as conn:
        states = conn.execute(select(BotStatus.state)).scalars().all()
    assert states == [BotState.STOPPED]
    engine.dispose()

"""No secret and no resident's phone or ID number reaches the logs, even at DEBUG.

The shipped demo day is replayed through the whole pipeline with extra resident lines carrying a
mobile number, an ID-card number and a room address; then the administrators' API is called with a
token. Every logger logs at DEBUG into one capturing handler on the root logger (as with
GRIDBOT_LOG_LEVEL=DEBUG), on engines built the way production builds them (`make_engine`).
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from gridbot.api.app import create_app
from gridbot.bot.app import build_runtime
from gridbot.bot.demo import DEMO_TRANSCRIPT, run_demo
from gridbot.bot.replay import Line, SimClock, read_transcript
from gridbot.models.db import make_engine, make_session_factory
from gridbot.models.enums import Role
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.org.tokens import create_token, find_region
from gridbot.models.settings import DBSettings, Settings, get_settings
from gridbot.nlp.classifier import Classifier
from gridbot.nlp.pii import id_checksum_ok
from tests.pg import url_of

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.slow]

WECHATY_TOKEN = f"puppet-token-{secrets.token_hex(12)}"
JWT_SECRET = f"jwt-secret-{secrets.token_hex(12)}"
PHONE = "13812345678"
ID_NUMBER = next(n for n in (f"32010619800101123{c}" for c in "0123456789X") if id_checksum_ok(n))
ADDRESS = "5栋1单元1203室"
RESIDENT_SAYS = (
    f"楼道里的灯坏了一个星期了，我家在{ADDRESS}，有事打我电话{PHONE}",
    f"帮我问问社保卡怎么补办，身份证号{ID_NUMBER}，电话 138-1234-5678",
    f"急！{ADDRESS}楼下有人摔倒了，快来人，联系{PHONE}",
)


class Captured(logging.Handler):
    """Keeps every record's final text: formatted message, traceback and stack."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.texts: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append((record.name, self.format(record)))


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Captured]:
    """All loggers at DEBUG into one handler; secrets set through the environment as in production."""
    monkeypatch.setenv("GRIDBOT_WECHATY__TOKEN", WECHATY_TOKEN)
    monkeypatch.setenv("GRIDBOT_WECHATY__ENDPOINT", "127.0.0.1:1")
    monkeypatch.setenv("GRIDBOT_API__JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("GRIDBOT_LOG_LEVEL", "DEBUG")
    get_settings.cache_clear()
    handler = Captured()
    root = logging.getLogger()
    loggers = [root, *(v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger))]
    levels = {logger: logger.level for logger in [*loggers, logging.getLogger("sqlalchemy")]}
    for logger in levels:
        # GRIDBOT_DB__ECHO=true, the most our settings ask of SQLAlchemy, logs statements at INFO;
        # its DEBUG adds every result row, which no setting of ours turns on (see SECURITY.md).
        logger.setLevel(logging.INFO if logger.name.startswith("sqlalchemy") else logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    for logger, level in levels.items():
        logger.setLevel(level)
    get_settings.cache_clear()


@pytest.fixture
def engine(any_engine: Engine) -> Iterator[Engine]:
    """An engine on the test database built by `make_engine`, as every entry point builds it."""
    built = make_engine(DBSettings(url=url_of(any_engine)))
    yield built
    built.dispose()


def _transcript() -> list[Line]:
    """The demo day with the residents' personal-data lines slotted in through the morning."""
    lines = read_transcript(DEMO_TRANSCRIPT)
    residents = [line for line in lines if line.role == "resident"]
    extra = [
        replace(residents[i], id=f"pii-{i}", at=residents[i].at + timedelta(seconds=1), text=said)
        for i, said in zip((3, 10, 20), RESIDENT_SAYS, strict=True)
    ]
    return sorted(lines + extra, key=lambda line: line.at)


def _leaks(logs: Captured) -> list[str]:
    needles = (WECHATY_TOKEN, JWT_SECRET, PHONE, "138-1234-5678", ID_NUMBER, ADDRESS)
    return [f"{name}: {text[:300]}" for name, text in logs.texts if any(n in text for n in needles)]


async def test_a_replayed_day_and_api_calls_log_no_secret_and_no_personal_number(
    engine: Engine, logs: Captured, shared_classifier: Classifier, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None, db=DBSettings(url=url_of(engine)))  # type: ignore[call-arg]
    assert settings.wechaty.token and settings.wechaty.token.get_secret_value() == WECHATY_TOKEN
    assert settings.api.jwt_secret and settings.api.jwt_secret.get_secret_value() == JWT_SECRET
    lines = _transcript()
    clock = SimClock(lines[0].at)
    runtime = build_runtime(settings, engine, coordinator=LocalCoordinator(clock=clock.seconds))
    runtime.classifier = lambda: shared_classifier
    logging.getLogger("gridbot.test").debug(
        "settings in use: %s", settings
    )  # what a careless debug line shows
    await run_demo(runtime, clock, lines, lambda _s: None, timedelta(hours=3))

    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        _row, token = create_token(
            session, role=Role.COMMUNITY_ADMIN, region=find_region(session, "DEMO-GL-HQ-WTS"), name="孙主任"
        )
    app = create_app(settings, engine=engine, coordinator=LocalCoordinator())
    auth = {"Authorization": f"Bearer {token}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        tickets = (await client.get("/tickets", headers=auth)).json()["items"]
        assert tickets
        for path in (
            "/messages",
            "/people",
            "/ratings",
            f"/tickets/{tickets[0]['number']}",
            "/metrics/report",
        ):
            assert (await client.get(path, headers=auth)).status_code == 200, path
        wrong = {"Authorization": f"Bearer {token[:-4]}xxxx"}
        assert (await client.get("/tickets", headers=wrong)).status_code == 401

    with sessions() as session:  # the residents' lines were stored and handled
        stored = session.execute(
            text("SELECT count(*) FROM messages WHERE platform_id LIKE '%-pii-%'")
        ).scalar()
    assert stored == len(RESIDENT_SAYS)
    names = {name for name, _ in logs.texts}
    ours = {n for n in names if n.split(".", 1)[0] in {"gridbot", "bot", "handlers", "models", "nlp", "api"}}
    assert len(logs.texts) > 100 and any(
        n.startswith(("gridbot.bot.", "gridbot.handlers.", "gridbot.models.")) for n in ours
    )
    assert all(n.startswith("gridbot.") for n in ours)  # one hierarchy: `gridbot` sets every level
    assert any(n.startswith("sqlalchemy.engine") for n in names)  # every statement was logged
    assert token not in "\n".join(t for _, t in logs.texts)
    assert _leaks(logs) == []


@pytest.mark.e2e
def test_gridbot_run_on_a_dead_endpoint_does_not_print_the_token(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GRIDBOT_DB__URL": f"sqlite:///{tmp_path / 'gridbot.db'}",
        "GRIDBOT_WECHATY__ENDPOINT": "127.0.0.1:1",
        "GRIDBOT_WECHATY__TOKEN": WECHATY_TOKEN,
        "GRIDBOT_WECHATY__LOGIN_TIMEOUT_S": "3",
        "GRIDBOT_LOG_LEVEL": "DEBUG",
    }
    subprocess.run(
        [sys.executable, "-c", "from gridbot.cli import main; main()", "db", "upgrade"],
        env=env, cwd=tmp_path, capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", "from gridbot.cli import main; main()", "run", "--transport", "wechaty"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "error: " in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert WECHATY_TOKEN not in result.stdout + result.stderr

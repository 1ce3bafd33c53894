"""改类 corrections come out of the database as training rows `gridbot train` accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from gridbot.cli import _register, app
from gridbot.models.entities import Person
from gridbot.models.enums import Priority, TicketKind
from gridbot.models.org.directory import actor_for
from gridbot.models.settings import get_settings
from gridbot.models.tickets import service as tickets
from gridbot.models.tickets.sla import load_policy
from gridbot.nlp.corpus import read_examples
from tests.conftest import build_world

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_export_corrections_round_trip(
    sqlite_engine: Engine,
    sqlite_session_factory: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = load_policy()
    with sqlite_session_factory.begin() as session:
        world = build_world(session)
        worker = actor_for(session, session.get_one(Person, world.worker))
        numbers = []
        for text in ("5栋楼梯间堆满纸箱，还有烂菜叶，臭得很", "3栋门口的路灯不亮了"):
            t = tickets.open_ticket(
                session,
                grid_id=world.grid,
                kind=TicketKind.INCIDENT,
                category="violation",
                category_label="违规违建",
                priority=Priority.NORMAL,
                text=text,
                text_masked=text,
                reporter_id=world.resident,
                now=NOW,
                policy=policy,
            )
            numbers.append(t.id)
        tickets.reclassify(session, numbers[0], worker, NOW, TicketKind.INCIDENT, "property", "物业服务")
        # a later correction of the same ticket wins
        later = NOW + timedelta(minutes=5)
        tickets.reclassify(session, numbers[0], worker, later, TicketKind.INCIDENT, "sanitation", "环境卫生")

    monkeypatch.setenv("GRIDBOT_DB__URL", str(sqlite_engine.url))
    get_settings.cache_clear()
    out = tmp_path / "corrections.jsonl"
    _register()
    result = CliRunner().invoke(app, ["export-corrections", "--output", str(out)])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows == [
        {
            "text": "5栋楼梯间堆满纸箱，还有烂菜叶，臭得很",
            "kind": "incident",
            "category": "sanitation",
            "priority": "normal",
            "source": f"correction:ticket:{numbers[0]}",
        }
    ]
    examples = read_examples(out)
    assert [(e.kind, e.category) for e in examples] == [("incident", "sanitation")]

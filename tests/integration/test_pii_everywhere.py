"""Personal data typed in any disguise never leaves the system readable: API, exports, logs, replies.

Hypothesis writes resident messages (and display names) carrying phones, ID and bank card numbers,
landlines, plates, room addresses and e-mail addresses in the formats of `tests.pii_formats`
(full-width, circled, maths and Chinese-numeral digits, zero-width splits, 138.1234.5678, 6-8-4 IDs,
苏 A12345, 3#501, B座1203, 三栋二单元五零一 …) into the replayed group, lets a gridworker answer and
resolve with personal data in the notes, then reads every API endpoint, the bulletin exports and
every log record (all loggers at DEBUG) and asserts that none of the values can be read in any of them.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
from collections.abc import Iterator

import anyio
import httpx
import openpyxl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from gridbot.api.app import create_app
from gridbot.bot.app import Runtime, build_runtime
from gridbot.bot.replay import SimClock
from gridbot.models.db import make_engine
from gridbot.models.entities import Grid, Region
from gridbot.models.enums import Role
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.org.tokens import create_token
from gridbot.models.settings import DBSettings, Settings
from gridbot.nlp.classifier import Classifier
from tests.integration.conftest import Group
from tests.pg import url_of
from tests.pii_formats import leaks, sentence

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class Captured(logging.Handler):
    """Every record's final text (message and traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Captured]:
    """Every logger at DEBUG (SQLAlchemy at INFO, its most our settings ask for) into one handler."""
    handler = Captured()
    root = logging.getLogger()
    loggers = [root, *(v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger))]
    levels = {logger: logger.level for logger in loggers}
    for logger in levels:
        logger.setLevel(logging.INFO if logger.name.startswith("sqlalchemy") else logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    for logger, level in levels.items():
        logger.setLevel(level)


@pytest.fixture
def runtime(any_engine: Engine, clock: SimClock, shared_classifier: Classifier) -> Iterator[Runtime]:
    """The replay runtime on an engine built by `make_engine`, as production builds it (parameters hidden)."""
    engine = make_engine(DBSettings(url=url_of(any_engine)))
    settings = Settings(_env_file=None, db=DBSettings(url=url_of(any_engine)))
    rt = build_runtime(settings, engine, coordinator=LocalCoordinator(clock=clock.seconds))
    rt.classifier = lambda: shared_classifier
    yield rt
    engine.dispose()


_round = itertools.count()


async def _outputs(group: Group, texts: list[str], names: list[str], notes: list[str]) -> list[str]:
    """Play the texts, answer and resolve the first ticket with the notes; everything the system shows."""
    n = next(_round)
    start = len(group.replay.transport.sent)
    rows = [
        {
            "id": f"g{n}-{i}",
            "name": f"居民{names[i % len(names)]}",
            "sender": f"wx-g{n}-{i % 3}",
            "text": text,
        }
        for i, text in enumerate(texts)
    ]
    _, replay = await group.play(rows)
    numbers = sorted({v for k, v in replay.tickets.items() if k.startswith(f"g{n}-")})
    if numbers:
        await group.play(
            [
                {"name": "小王", "text": f"回复 #{numbers[0]} {notes[0]}"},
                {"name": "小王", "text": f"办结 #{numbers[0]} {notes[1]}"},
                {"name": rows[0]["name"], "sender": rows[0]["sender"], "text": f"3 不满意 {notes[2]}"},
            ]
        )
    shown = [m.text for _, m in group.replay.transport.sent[start:]]
    with group.runtime.sessions.begin() as session:
        grid = session.scalars(select(Grid).where(Grid.code == "WTS-01")).one()
        community = session.get(Region, grid.community_id)
        assert community is not None and community.parent_id is not None
        _, token = create_token(session, role=Role.COMMUNITY_ADMIN, region=community, name=f"孙主任{n}")
        street_region = session.get(Region, community.parent_id)
        assert street_region is not None
        _, street_token = create_token(
            session, role=Role.STREET_ADMIN, region=street_region, name=f"赵科长{n}"
        )
        grid_id, street_id = grid.id, community.parent_id
    app = create_app(group.runtime.settings, engine=group.runtime.engine, coordinator=LocalCoordinator())
    auth = {"Authorization": f"Bearer {token}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        paths = ["/messages?limit=200", "/tickets?limit=200", "/people?limit=200", "/ratings?limit=200"]
        paths += [f"/grids/{grid_id}", "/grids", *(f"/tickets/{number}" for number in numbers)]
        for path in paths:
            r = await client.get(path, headers=auth)
            assert r.status_code == 200, (path, r.text)
            shown.append(r.text)
        street = {"Authorization": f"Bearer {street_token}"}
        for fmt in ("json", "csv", "xlsx"):
            r = await client.get(f"/bulletin?region={street_id}&month=2026-03&format={fmt}", headers=street)
            assert r.status_code == 200, r.text
            if fmt == "xlsx":
                book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
                shown += [
                    str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row
                ]
            else:
                shown.append(r.text)
    return shown


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.generate],  # a failure prints its example; shrinking a replay is slow
)
@given(
    cases=st.lists(sentence(), min_size=6, max_size=6),
    name_cases=st.lists(sentence(), min_size=2, max_size=2),
    note_cases=st.lists(sentence(), min_size=3, max_size=3),
)
def test_no_generated_pii_survives_any_endpoint_export_or_log(
    group: Group,
    logs: Captured,
    cases: list[tuple[str, str]],
    name_cases: list[tuple[str, str]],
    note_cases: list[tuple[str, str]],
) -> None:
    names = [re.sub(r"\s", "", t)[:40] for t, _ in name_cases]
    canon = [c for _, c in cases + note_cases] + [
        c for (t, c) in name_cases if c in re.sub(r"\s", "", t)[:40]
    ]
    start = len(logs.texts)
    shown = anyio.run(_outputs, group, [t for t, _ in cases], names, [t for t, _ in note_cases])
    outputs = shown + logs.texts[start:]
    assert len(outputs) > 10
    found = {c: [o[:200] for o in leaks(c, outputs)] for c in canon}
    assert {c: o for c, o in found.items() if o} == {}

"""The retention purge blanks old message text and leaves every metric and rollup as it was.

Runs on SQLite and PostgreSQL over the hand-counted world of test_metrics.py (local March 2026),
with text given to each of its messages and a few outbox rows added.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from gridbot.cli import _register, app
from gridbot.models.entities import Message, Outbox, RollupCohort, RollupDay, utcnow
from gridbot.models.enums import MessageDirection, MessageStatus, OutboxKind, OutboxStatus, Role
from gridbot.models.messaging.inbox import classified, finish
from gridbot.models.messaging.outbox import enqueue
from gridbot.models.messaging.retention import purge_message_text
from gridbot.models.metrics import Period, Scope, daily_series, scope_metrics
from gridbot.models.metrics.rollups import refresh_rollups
from gridbot.models.settings import get_settings
from gridbot.nlp.pii import mask
from tests.conftest import World
from tests.integration.test_metrics import MARCH, Ids, build_metrics_world
from tests.pg import url_of

pytestmark = pytest.mark.integration
T0, END = MARCH.start, MARCH.end
D = timedelta(days=1)
NOW = T0 + 20 * D  # with 10 days' retention the cutoff is local 11 March 00:00
DAYS = 10
CUTOFF = NOW - DAYS * D
PHONE = "13812345678"


@dataclass(frozen=True)
class Fixture:
    """The metrics world's ids, plus what the test added to it."""

    ids: Ids
    old_pending: int  # an inbound message before the cutoff, not handled yet
    outbox: dict[str, int]  # old_sent, old_dead, old_pending, new_sent → row id


def _text(message_id: int) -> str:
    return f"第{message_id}条：3栋2单元301室漏水，电话{PHONE}"


def _build(session: Session, world: World) -> Fixture:
    ids = build_metrics_world(session, world)
    session.flush()
    for message in session.scalars(select(Message)):
        message.text = _text(message.id)
        message.text_masked = mask(message.text)
        classified(
            message, {"kind": "incident", "category": "物业服务", "priority": "normal", "urgency_cues": []}
        )
        finish(message, MessageStatus.PROCESSED)  # writes the verdict `classified` kept
    pending = Message(
        platform_id="m-pending",
        direction=MessageDirection.INBOUND,
        grid_id=ids.grid,
        sender_id=world.resident,
        sender_role=Role.RESIDENT,
        sent_at=T0 - D,
        text=f"还没处理的消息 {PHONE}",
        text_masked="还没处理的消息 [手机号]",
        status=MessageStatus.PENDING,
    )
    session.add(pending)
    outbox = {}
    for key, at, status in (
        ("old_sent", T0, OutboxStatus.SENT),
        ("old_dead", T0, OutboxStatus.DEAD),
        ("old_pending", T0, OutboxStatus.PENDING),
        ("new_sent", CUTOFF + D, OutboxStatus.SENT),
    ):
        row = enqueue(session, dedupe_key=key, kind=OutboxKind.REPLY, text=f"【紧急】原文：{key}", now=at)
        row.status = status
        outbox[key] = row.id
    session.flush()
    return Fixture(ids, pending.id, outbox)


@pytest.fixture
def fixture(session_factory: sessionmaker[Session], world: World) -> Fixture:
    with session_factory.begin() as s:
        return _build(s, world)


def _figures(session: Session, ids: Ids) -> tuple[object, ...]:
    """Every figure the metrics and the rollups give for the street, recomputed from the messages."""
    scope = Scope.region(ids.street_path)
    refresh_rollups(session, date(2026, 2, 1), date(2026, 4, 30), through=date(2026, 4, 30))
    session.flush()
    rollups = (
        sorted(
            tuple(getattr(r, c.name) for c in RollupDay.__table__.columns)
            for r in session.scalars(select(RollupDay))
        ),
        sorted(
            tuple(getattr(r, c.name) for c in RollupCohort.__table__.columns)
            for r in session.scalars(select(RollupCohort))
        ),
    )
    return (
        scope_metrics(session, scope, MARCH),
        scope_metrics(session, scope, Period.local_days(date(2026, 3, 1), date(2026, 3, 10))),
        daily_series(session, scope, MARCH),
        rollups,
    )


def _messages(session: Session) -> dict[int, Message]:
    return {m.id: m for m in session.scalars(select(Message))}


def test_old_text_goes_new_text_stays_and_every_metric_is_unchanged(
    session_factory: sessionmaker[Session], fixture: Fixture
) -> None:
    with session_factory.begin() as s:
        before_figures = _figures(s, fixture.ids)
    with session_factory() as s:
        before = {i: (m.sent_at, m.direction, m.status, m.kind, m.category) for i, m in _messages(s).items()}
    assert len(before) > 15

    with session_factory.begin() as s:
        purged = purge_message_text(s, NOW, DAYS)

    with session_factory() as s:
        messages = _messages(s)
        old = {i for i, m in messages.items() if m.sent_at < CUTOFF and i != fixture.old_pending}
        new = set(messages) - old - {fixture.old_pending}
        assert old and new and any(messages[i].direction is MessageDirection.OUTBOUND for i in old)
        for i in old:
            m = messages[i]
            assert (m.text, m.text_masked, m.text_purged_at) == (None, "", NOW), i
            # the labels stay (engagement and metrics read them); the classifier payload has no text
            assert m.kind == "incident" and m.classification and m.classification["category"] == "物业服务"
        for i in new:
            m = messages[i]
            assert (m.text, m.text_masked, m.text_purged_at) == (_text(i), mask(_text(i)), None), i
        pending = messages[fixture.old_pending]
        assert pending.text and PHONE in pending.text and pending.text_purged_at is None
        # rows, times, directions, statuses and labels are all as they were
        after = {i: (m.sent_at, m.direction, m.status, m.kind, m.category) for i, m in messages.items()}
        assert after == before
        box = {row.id: row.text for row in s.scalars(select(Outbox))}
        assert box[fixture.outbox["old_sent"]] == box[fixture.outbox["old_dead"]] == ""
        assert box[fixture.outbox["old_pending"]] == "【紧急】原文：old_pending"  # still to be sent
        assert box[fixture.outbox["new_sent"]] == "【紧急】原文：new_sent"
        # no resident text is left anywhere in the purged rows
        assert not s.scalar(select(Message.id).where(Message.id.in_(old), Message.text.contains(PHONE)))
    assert purged == len(old) + 2

    with session_factory.begin() as s:
        assert _figures(s, fixture.ids) == before_figures


def test_a_second_run_purges_nothing_and_a_later_one_only_what_aged(
    session_factory: sessionmaker[Session], fixture: Fixture
) -> None:
    with session_factory.begin() as s:
        first = purge_message_text(s, NOW, DAYS)
    with session_factory.begin() as s:
        assert purge_message_text(s, NOW, DAYS) == 0
        assert purge_message_text(s, NOW + timedelta(hours=1), DAYS + 1) == 0  # an older cutoff
    with session_factory() as s:
        stamps = {m.text_purged_at for m in _messages(s).values() if m.text_purged_at}
        assert stamps == {NOW}  # nobody was stamped again
        kept = sum(1 for m in _messages(s).values() if m.text is not None and m.id != fixture.old_pending)
    assert first > 0 and kept > 0
    with session_factory.begin() as s:
        later = purge_message_text(s, END + 2 * D, 1)  # everything handled is now old enough
    with session_factory() as s:
        assert [m.id for m in _messages(s).values() if m.text is not None] == [fixture.old_pending]
    assert later == kept + 1  # the newer outbox row goes too


def test_a_retention_below_one_day_is_refused(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s, pytest.raises(ValueError, match="at least 1 day"):
        purge_message_text(s, NOW, 0)


# ---- the command ------------------------------------------------------------------------------


@pytest.fixture
def cli(any_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CliRunner]:
    """`gridbot` on the test database, no .env file, retention unset."""
    monkeypatch.setenv("GRIDBOT_DB__URL", url_of(any_engine))
    monkeypatch.delenv("GRIDBOT_RETENTION__MESSAGE_TEXT_DAYS", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory
    get_settings.cache_clear()
    _register()
    yield CliRunner()
    get_settings.cache_clear()


def _recent_messages(session_factory: sessionmaker[Session], world: World) -> dict[str, int]:
    """Messages 40 days, 5 days and 1 hour old (real time: the command uses the clock)."""
    now = utcnow()
    out = {}
    with session_factory.begin() as s:
        for key, age in (("40d", 40 * D), ("5d", 5 * D), ("1h", timedelta(hours=1))):
            m = Message(
                platform_id=f"cli-{key}",
                direction=MessageDirection.INBOUND,
                grid_id=world.grid,
                sender_id=world.resident,
                sender_role=Role.RESIDENT,
                sent_at=now - age,
                text=f"{key} {PHONE}",
                text_masked=f"{key} [手机号]",
                status=MessageStatus.PROCESSED,
            )
            s.add(m)
            s.flush()
            out[key] = m.id
    return out


def _texts(session_factory: sessionmaker[Session]) -> dict[str, str | None]:
    with session_factory() as s:
        return {m.platform_id: m.text for m in s.scalars(select(Message))}


def test_purge_text_command(
    cli: CliRunner, session_factory: sessionmaker[Session], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _recent_messages(session_factory, world)
    unset = cli.invoke(app, ["db", "purge-text"])
    assert unset.exit_code == 2
    assert "pass --days N or set GRIDBOT_RETENTION__MESSAGE_TEXT_DAYS" in unset.output
    assert all(_texts(session_factory).values())

    done = cli.invoke(app, ["db", "purge-text", "--days", "30"])
    assert done.exit_code == 0, done.output
    assert "purged the text of 1 rows older than 30 days" in done.output
    assert _texts(session_factory) == {"cli-40d": None, "cli-5d": f"5d {PHONE}", "cli-1h": f"1h {PHONE}"}

    monkeypatch.setenv("GRIDBOT_RETENTION__MESSAGE_TEXT_DAYS", "2")
    get_settings.cache_clear()
    from_setting = cli.invoke(app, ["db", "purge-text"])
    assert from_setting.exit_code == 0, from_setting.output
    assert "purged the text of 1 rows older than 2 days" in from_setting.output
    assert _texts(session_factory) == {"cli-40d": None, "cli-5d": None, "cli-1h": f"1h {PHONE}"}
    assert cli.invoke(app, ["db", "purge-text", "--days", "0"]).exit_code == 2


def test_purge_attachments_command_deletes_old_files_and_rows(
    cli: CliRunner, session_factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    from gridbot.models.attachments.store import FileStore
    from gridbot.models.entities import Attachment
    from gridbot.models.enums import AttachmentStatus, MessageType
    from gridbot.models.settings import AttachmentSettings

    store = FileStore(AttachmentSettings(dir=tmp_path / "gridbot-attachments"))  # the default, under cwd
    now = utcnow()
    kept = {}
    with session_factory.begin() as s:
        for key, age, data in (("old", 40, b"\xff\xd8\xff old"), ("new", 5, b"\xff\xd8\xff new")):
            taken = store.put_bytes(data)
            row = Attachment(
                grid_id=world.grid,
                kind=MessageType.IMAGE,
                status=AttachmentStatus.STORED,
                content_type=taken.content_type,
                size_bytes=taken.size_bytes,
                sha256=taken.sha256,
                created_at=now - timedelta(days=age),
            )
            s.add(row)
            kept[key] = taken.sha256 or ""
    unset = cli.invoke(app, ["db", "purge-attachments"])
    assert unset.exit_code == 2 and "GRIDBOT_RETENTION__ATTACHMENT_DAYS" in unset.output
    done = cli.invoke(app, ["db", "purge-attachments", "--days", "30"])
    assert done.exit_code == 0, done.output
    assert "deleted 1 attachments (1 files) older than 30 days" in done.output
    assert not store.path_of(kept["old"]).exists() and store.path_of(kept["new"]).exists()
    with session_factory() as s:
        assert [r.sha256 for r in s.scalars(select(Attachment))] == [kept["new"]]

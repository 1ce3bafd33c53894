"""The per-message path's shortcuts: a message stored just now is routed from what was stored, not
loaded again, and still claimed under its row lock (G1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, inspect, select

from gridbot.handlers.storable import inbound_row
from gridbot.handlers.types import IncomingMessage
from gridbot.models.entities import ChatGroup, Message, Person
from gridbot.models.enums import MessageStatus, Role
from gridbot.models.messaging import inbox
from tests.integration.conftest import ROOM, Group, inbound

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def columns(message: Message) -> dict[str, object]:
    return {a.key: getattr(message, a.key) for a in inspect(Message).column_attrs}


async def test_known_chatter_is_stored_and_routed_without_loading_its_row(group: Group) -> None:
    await group.say("刘师傅", "大家早上好")  # first sight: the copies are made
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    event.listen(group.runtime.engine, "before_cursor_execute", record)
    try:
        await group.say("刘师傅", "今天天气不错")
    finally:
        event.remove(group.runtime.engine, "before_cursor_execute", record)
    assert not [s for s in seen if s.startswith("SELECT") and "messages.classification" in s], seen
    path = [s.split()[0] for s in seen if "outbox" not in s]  # the replay's sender rounds aside
    assert path == ["INSERT", "SELECT", "UPDATE"], seen  # stored (version checked), claimed, finished
    with group.runtime.sessions() as s:
        stored = inbound(s, "今天天气不错")
        assert (stored.status, stored.attempts, stored.sender_role) == (
            MessageStatus.PROCESSED,
            1,
            Role.RESIDENT,
        )
        assert stored.classification is not None and stored.kind == "chatter"


async def test_a_row_claimed_from_what_was_stored_is_the_row_loaded(group: Group) -> None:
    await group.say("刘师傅", "大家早上好")
    now = group.clock.now
    msg = IncomingMessage(
        "wx-path-1", ROOM, "wx-liu", "刘师傅", "楼道灯坏了 @网格员", now - timedelta(seconds=3)
    )
    with group.runtime.sessions.begin() as s:
        room = s.scalars(select(ChatGroup).where(ChatGroup.room_id == ROOM)).one()
        person = s.scalars(select(Person).where(Person.name == "刘师傅")).one()
        row = inbound_row(msg, room, person.id, Role.RESIDENT, now)
        message_id = inbox.record_inbound(s, row)
    assert message_id is not None
    with group.runtime.sessions.begin() as s:  # another instance counted an attempt meanwhile
        assert inbox.count_attempt(s, message_id) == 1
    with group.runtime.sessions.begin() as s:
        loaded = inbox.claim_pending(s, message_id)
        assert loaded is not None
        expected = columns(loaded)
    with group.runtime.sessions.begin() as s:
        built = inbox.claim_stored(s, message_id, row)
        assert built is not None and columns(built) == expected
        inbox.finish(built, MessageStatus.PROCESSED)
    with group.runtime.sessions.begin() as s:
        assert inbox.claim_stored(s, message_id, row) is None  # routed: nobody claims it again
        assert s.get(Message, message_id).attempts == 2  # type: ignore[union-attr]


async def test_a_batch_claimed_from_what_was_stored_is_the_rows_loaded(group: Group) -> None:
    await group.say("刘师傅", "大家早上好")
    now = group.clock.now
    texts = ["楼道灯坏了", "今天天气不错", "垃圾没人收"]
    msgs = [
        IncomingMessage(f"wx-many-{i}", ROOM, "wx-liu", "刘师傅", t, now - timedelta(seconds=3))
        for i, t in enumerate(texts)
    ]
    with group.runtime.sessions.begin() as s:
        room = s.scalars(select(ChatGroup).where(ChatGroup.room_id == ROOM)).one()
        person = s.scalars(select(Person).where(Person.name == "刘师傅")).one()
        rows = [inbound_row(m, room, person.id, Role.RESIDENT, now) for m in msgs]
        ids = inbox.record_many(s, rows)
    stored = {ids[r["platform_id"]]: r for r in rows}
    first = min(stored)
    with group.runtime.sessions.begin() as s:  # another instance routed one meanwhile
        done = inbox.claim_pending(s, first)
        assert done is not None
        inbox.finish(done, MessageStatus.PROCESSED)
    with group.runtime.sessions.begin() as s:
        expected = {i: columns(m) for i in stored if (m := inbox.claim_pending(s, i)) is not None}
    with group.runtime.sessions.begin() as s:
        built = inbox.claim_stored_many(s, stored)
        assert sorted(built) == sorted(expected) == sorted(set(stored) - {first})
        assert {i: columns(m) for i, m in built.items()} == expected

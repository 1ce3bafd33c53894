"""The micro-batch path (`Conversation.handle_batch`): messages of several rooms stored, classified and
routed together keep what one message at a time promises — stored once, answered once, a room's
replies in order, nothing lost when one message or the process fails."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from gridbot.bot.app import Runtime
from gridbot.bot.demo import setup_world
from gridbot.bot.dispatch import MessageDispatcher
from gridbot.bot.replay import Line, SimClock
from gridbot.handlers import batch, commands, intake, replies
from gridbot.handlers import conversation as conversation_module
from gridbot.handlers.context import CommandError, Context
from gridbot.handlers.conversation import Conversation
from gridbot.handlers.storable import inbound_row
from gridbot.handlers.types import IncomingMessage, Outcome
from gridbot.models import failpoints
from gridbot.models.entities import Message, Outbox, Person, RoleAssignment, Ticket
from gridbot.models.enums import MessageStatus, MessageType, Role
from gridbot.nlp.classifier import Classifier
from tests.integration.conftest import STAFF, T0

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

ROOM_A, ROOM_B = "batch-a@chatroom", "batch-b@chatroom"
LAMP = "3栋2单元楼道灯又坏了，晚上黑灯瞎火的"
WATER = "5栋地下室墙角一直在渗水，地上湿了一大片"
CHAT = "今天天气真好，大家出来晒太阳"
TRASH = "8号楼门口垃圾堆了好几天没人清运，臭死了"


@pytest.fixture
def conversation(runtime: Runtime, clock: SimClock) -> Conversation:
    """Two rooms bound to the demo grid, the staff in both."""
    lines = [
        Line(f"s-{pid}", T0, room, pid, n, r, "")
        for room in (ROOM_A, ROOM_B)
        for n, (pid, r) in STAFF.items()
    ]
    with runtime.sessions.begin() as session:
        setup_world(session, lines)
    return runtime.conversation(clock)


def msg(n: int, room: str, sender: str, text: str, clock: SimClock) -> IncomingMessage:
    return IncomingMessage(f"batch-{n}", room, sender, sender, text, clock.now + timedelta(seconds=n))


def replies_in(runtime: Runtime, room: str) -> list[str]:
    with runtime.sessions() as s:
        return list(s.scalars(select(Outbox.text).where(Outbox.room_id == room).order_by(Outbox.id)))


def statuses(runtime: Runtime) -> dict[str, MessageStatus]:
    with runtime.sessions() as s:
        return {p: st for p, st in s.execute(select(Message.platform_id, Message.status))}


async def test_a_batch_files_answers_and_ignores_as_one_at_a_time(
    conversation: Conversation, runtime: Runtime, clock: SimClock
) -> None:
    msgs = [
        msg(1, ROOM_A, "wx-zhang", LAMP, clock),
        msg(2, ROOM_B, "wx-liu", CHAT, clock),
        msg(3, ROOM_B, "wx-zhao", WATER, clock),
        msg(4, ROOM_A, "wx-wang", "工单", clock),
    ]
    outcomes = await conversation.handle_batch(msgs)
    assert [o.status for o in outcomes] == ["ticket", "chatter", "ticket", "command"]
    assert set(statuses(runtime).values()) == {MessageStatus.PROCESSED}
    a, b = replies_in(runtime, ROOM_A), replies_in(runtime, ROOM_B)
    assert "已收到您反映的" in a[0] and "已收到您反映的" in b[0] and len(b) == 1
    assert len(a) == 2  # the report's receipt, then the gridworker's 工单 list
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2
    # delivered again (a reconnecting transport): stored once, answered once
    again = await conversation.handle_batch(msgs)
    assert {o.status for o in again} == {"duplicate"}
    assert replies_in(runtime, ROOM_A) == a and replies_in(runtime, ROOM_B) == b


async def test_a_refused_command_costs_only_itself_and_its_room_keeps_its_order(
    conversation: Conversation, runtime: Runtime, clock: SimClock
) -> None:
    outcomes = await conversation.handle_batch(
        [
            msg(1, ROOM_A, "wx-zhang", LAMP, clock),
            msg(2, ROOM_A, "wx-wang", "接单 #999", clock),  # no such ticket: refused
            msg(3, ROOM_A, "wx-liu", TRASH, clock),  # after the refusal in this room
            msg(4, ROOM_B, "wx-zhao", WATER, clock),
        ]
    )
    assert [o.status for o in outcomes] == ["ticket", "refused", "ticket", "ticket"]
    a = replies_in(runtime, ROOM_A)
    assert len(a) == 3 and "已收到您反映的" in a[0] and "已收到您反映的" in a[2]
    assert "999" in a[1]  # the refusal, between the two receipts as the messages came
    assert set(statuses(runtime).values()) == {MessageStatus.PROCESSED}


async def test_a_refused_command_is_answered_in_the_batch_with_what_it_wrote_undone(
    conversation: Conversation, runtime: Runtime, clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_done_then_refused(ctx: Context, *_args: object) -> None:
        ctx.reply("写了一半")
        raise CommandError("这条命令不能执行")

    alone: list[int] = []
    route_alone = Conversation._route

    def counted(self: Conversation, msg: IncomingMessage, message_id: int, *args: object) -> Outcome:
        alone.append(message_id)
        return route_alone(self, msg, message_id, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(commands, "run", half_done_then_refused)
    monkeypatch.setattr(Conversation, "_route", counted)
    outcomes = await conversation.handle_batch(
        [
            msg(1, ROOM_A, "wx-wang", "工单", clock),
            msg(2, ROOM_A, "wx-liu", TRASH, clock),
            msg(3, ROOM_B, "wx-zhao", WATER, clock),
        ]
    )
    assert [o.status for o in outcomes] == ["refused", "ticket", "ticket"]
    assert alone == []  # the refusal and its room's later message stayed in the batch
    a = replies_in(runtime, ROOM_A)
    assert a[0] == "这条命令不能执行" and "已收到您反映的" in a[1] and len(a) == 2
    assert set(statuses(runtime).values()) == {MessageStatus.PROCESSED}


async def test_a_handler_failure_sends_every_message_alone_and_loses_none(
    conversation: Conversation, runtime: Runtime, clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated handler bug")

    monkeypatch.setattr(intake, "file_report", crash)
    outcomes = await conversation.handle_batch(
        [msg(1, ROOM_A, "wx-liu", CHAT, clock), msg(2, ROOM_B, "wx-zhang", LAMP, clock)]
    )
    assert [o.status for o in outcomes] == ["chatter", "failed"]
    assert statuses(runtime) == {"batch-1": MessageStatus.PROCESSED, "batch-2": MessageStatus.FAILED}
    assert replies_in(runtime, ROOM_B) == [replies.APOLOGY]


class Killed(BaseException):
    """The process dying in the middle of routing a batch."""


async def test_a_crash_mid_batch_leaves_the_batch_stored_for_recovery(
    conversation: Conversation, runtime: Runtime, clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(name: str) -> None:
        if name == "route.dispatched":
            raise Killed

    monkeypatch.setattr(failpoints, "hit", die)
    msgs = [msg(1, ROOM_A, "wx-zhang", LAMP, clock), msg(2, ROOM_B, "wx-liu", CHAT, clock)]
    with pytest.raises(Killed):
        await conversation.handle_batch(msgs)
    assert set(statuses(runtime).values()) == {MessageStatus.PENDING}  # persisted first, routed by none
    monkeypatch.undo()
    assert await conversation.recover_pending() == 2
    assert set(statuses(runtime).values()) == {MessageStatus.PROCESSED}
    assert len(replies_in(runtime, ROOM_A)) == 1 and replies_in(runtime, ROOM_B) == []


async def test_a_batch_with_an_unbound_room_goes_one_at_a_time(
    conversation: Conversation, runtime: Runtime, clock: SimClock
) -> None:
    outcomes = await conversation.handle_batch(
        [msg(1, ROOM_A, "wx-zhang", LAMP, clock), msg(2, "stranger@chatroom", "wx-stranger", LAMP, clock)]
    )
    assert [o.status for o in outcomes] == ["ticket", "ignored"]
    assert statuses(runtime) == {"batch-1": MessageStatus.PROCESSED}
    with runtime.sessions() as s:  # nobody met in a room the bot does not serve is stored
        assert s.scalar(select(func.count()).where(Person.platform_id == "wx-stranger")) == 0


def test_batched_classification_is_what_one_at_a_time_gives(shared_classifier: Classifier) -> None:
    texts = [LAMP, WATER, CHAT, "工单", "3 灯还是不亮", "@小王 什么时候来修", "楼下有人打架，快报警！"]
    assert shared_classifier.classify_batch(texts) == [shared_classifier.classify(t) for t in texts]


# ---- through the bot's dispatcher (bot.dispatch.MessageDispatcher), as every transport hands over --


async def test_the_dispatcher_sends_a_lone_message_alone_and_what_waits_together(
    conversation: Conversation, runtime: Runtime, clock: SimClock
) -> None:
    dispatcher = MessageDispatcher(conversation.handle_batch, batch_max=50)
    assert (await dispatcher.handle(msg(1, ROOM_A, "wx-zhang", LAMP, clock))).status == "ticket"
    assert (dispatcher.batches, dispatcher.items) == (1, 1)
    # arriving together: the first goes at once, the rest wait for it and then go as one batch
    futures = [
        dispatcher.handle(m)
        for m in (
            msg(2, ROOM_B, "wx-zhao", WATER, clock),
            msg(3, ROOM_A, "wx-liu", TRASH, clock),
            msg(4, ROOM_B, "wx-liu", CHAT, clock),
            msg(5, ROOM_A, "wx-wang", "工单", clock),
        )
    ]
    outcomes = [await f for f in futures]
    assert [o.status for o in outcomes] == ["ticket", "ticket", "chatter", "command"]
    assert (dispatcher.batches, dispatcher.items) == (3, 5)
    assert set(statuses(runtime).values()) == {MessageStatus.PROCESSED}
    a = replies_in(runtime, ROOM_A)
    assert len(a) == 3 and "已收到您反映的" in a[0] and "已收到您反映的" in a[1]  # then 工单's list
    assert "工单" in a[2] and len(replies_in(runtime, ROOM_B)) == 1


async def test_a_message_that_breaks_the_batch_fails_alone_and_the_others_are_handled_once(
    conversation: Conversation, runtime: Runtime, clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def poisoned(msg: IncomingMessage, *args: object) -> dict[str, object]:
        if msg.platform_id == "batch-4":
            raise RuntimeError("simulated bug storing one message")
        return inbound_row(msg, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "inbound_row", poisoned)
    monkeypatch.setattr(conversation_module, "inbound_row", poisoned)
    dispatcher = MessageDispatcher(conversation.handle_batch, batch_max=50)
    msgs = [
        msg(1, ROOM_A, "wx-zhang", LAMP, clock),  # goes alone at once; the rest wait for it
        msg(2, ROOM_B, "wx-zhao", WATER, clock),
        msg(3, ROOM_A, "wx-liu", CHAT, clock),
        msg(4, ROOM_A, "wx-liu", TRASH, clock),  # breaks the batch it is in
        msg(5, ROOM_B, "wx-liu", TRASH, clock),
        msg(6, ROOM_A, "wx-zhao", "9号楼电梯困人了，快来人", clock),
    ]
    results = await asyncio.gather(*(dispatcher.handle(m) for m in msgs), return_exceptions=True)
    assert isinstance(results[3], RuntimeError)  # its transport delivers it again, or it is lost alone
    assert all(isinstance(r, Outcome) for i, r in enumerate(results) if i != 3)
    assert statuses(runtime) == {f"batch-{n}": MessageStatus.PROCESSED for n in (1, 2, 3, 5, 6)}
    with runtime.sessions() as s:  # every reply once: nothing was handled twice by the retry alone
        keys = list(s.scalars(select(Outbox.dedupe_key)))
        assert len(keys) == len(set(keys))
        assert {k.split(":")[1] for k in keys if k.startswith("reply:")} == {
            f"batch-{n}" for n in (1, 2, 5, 6)
        }
        assert s.scalar(select(func.count()).select_from(Ticket)) == 4


async def test_a_photo_sends_only_its_own_room_one_at_a_time(
    conversation: Conversation, runtime: Runtime, clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone: list[str] = []
    one_at_a_time = conversation.process

    def spy(m: IncomingMessage) -> Outcome:
        alone.append(m.platform_id)
        return one_at_a_time(m)

    monkeypatch.setattr(conversation, "process", spy)
    photo = replace(msg(2, ROOM_A, "wx-zhang", "", clock), msg_type=MessageType.IMAGE)
    outcomes = await conversation.handle_batch(
        [
            msg(1, ROOM_A, "wx-zhang", LAMP, clock),
            photo,
            msg(3, ROOM_B, "wx-zhao", WATER, clock),
            msg(4, ROOM_B, "wx-liu", CHAT, clock),
            msg(5, ROOM_A, "wx-liu", TRASH, clock),
        ]
    )
    assert [o.status for o in outcomes] == ["ticket", "evidence", "ticket", "chatter", "ticket"]
    assert alone == ["batch-1", "batch-2", "batch-5"]  # room A in order; room B stayed a batch
    assert set(statuses(runtime).values()) == {MessageStatus.PROCESSED}


async def test_a_batchs_first_sight_residents_are_created_together(
    conversation: Conversation, runtime: Runtime, clock: SimClock
) -> None:
    with runtime.sessions.begin() as s:  # on the organisation sheet, never seen in a group yet
        s.add(Person(name="李建国", wechat_id="wx-imported", created_at=T0))
    newcomers = [f"wx-new-{i}" for i in range(6)]
    msgs = [msg(i, (ROOM_A, ROOM_B)[i % 2], pid, f"{CHAT}{i}", clock) for i, pid in enumerate(newcomers)]
    msgs.append(msg(6, ROOM_B, "wx-new-0", f"{CHAT}6", clock))  # the same newcomer in the other room
    msgs.append(msg(7, ROOM_A, "wx-imported", f"{CHAT}7", clock))  # matched by WeChat id: claimed
    seen: list[str] = []
    listener = lambda _c, _cur, statement, *_r: seen.append(statement)  # noqa: E731
    event.listen(runtime.engine, "before_cursor_execute", listener)
    try:
        outcomes = await conversation.handle_batch(msgs)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", listener)
    assert [o.status for o in outcomes] == ["chatter"] * len(msgs)
    assert set(statuses(runtime).values()) == {MessageStatus.PROCESSED}
    with runtime.sessions() as s:
        held = s.execute(
            select(Person.platform_id, Person.name, RoleAssignment.role)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .where(Person.platform_id.in_([*newcomers, "wx-imported"]))
        ).all()
        stored = set(s.scalars(select(Message.sender_role).where(Message.platform_id.like("batch-%"))))
    assert sorted(p for p, _, _ in held) == sorted([*newcomers, "wx-imported"])  # one resident role each
    assert {r for _, _, r in held} == {Role.RESIDENT} and stored == {Role.RESIDENT}
    assert ("wx-imported", "李建国", Role.RESIDENT) in held  # the sheet's person, the official name kept
    person_inserts = [x for x in seen if x.lstrip().upper().startswith("INSERT INTO PERSONS")]
    assert len(person_inserts) == 1, person_inserts  # every newcomer of the batch in one statement


async def test_a_batchs_newcomers_are_not_read_back_by_its_route(
    conversation: Conversation, runtime: Runtime, clock: SimClock
) -> None:
    newcomers = [f"wx-new-{i}" for i in range(4)]
    msgs = [msg(i, (ROOM_A, ROOM_B)[i % 2], pid, f"{CHAT}{i}", clock) for i, pid in enumerate(newcomers)]
    seen: list[str] = []
    listener = lambda _c, _cur, statement, *_r: seen.append(statement)  # noqa: E731
    event.listen(runtime.engine, "before_cursor_execute", listener)
    try:
        outcomes = await conversation.handle_batch(msgs)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", listener)
    assert [o.status for o in outcomes] == ["chatter"] * len(msgs)
    stored = next(i for i, x in enumerate(seen) if x.lstrip().upper().startswith("INSERT INTO MESSAGES"))
    reads = [x for x in seen[stored:] if "FROM persons" in x or "FROM role_assignments" in x]
    assert reads == [], reads  # the persist's commit left the newcomers and their roles in the copies
    with runtime.sessions() as s:
        roles = s.execute(
            select(Person.platform_id, RoleAssignment.role, RoleAssignment.grid_id)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .where(Person.platform_id.in_(newcomers))
        ).all()
    assert sorted(p for p, _, _ in roles) == newcomers and {r for _, r, _ in roles} == {Role.RESIDENT}

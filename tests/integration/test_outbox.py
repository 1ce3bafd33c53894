"""Outbox delivery: claim, send, fail with backoff, die, release stale claims; a paced sender loop."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import anyio
import pytest
import redis
from sqlalchemy import event as sa_event
from sqlalchemy import insert as sa_insert
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gridbot.bot.sender import OutboxSender
from gridbot.handlers.types import OutgoingMessage
from gridbot.models.entities import Outbox
from gridbot.models.enums import OutboxKind, OutboxStatus
from gridbot.models.messaging import outbox as ob
from gridbot.models.messaging.coordination import LocalCoordinator, RedisCoordinator
from gridbot.models.settings import OutboxSettings

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def queue(sf: sessionmaker[Session], n: int, at: datetime = T0) -> list[int]:
    with sf.begin() as s:
        return [
            ob.enqueue(
                s, dedupe_key=f"k{i}", kind=OutboxKind.REPLY, text="好的", now=at + i * S, room_id="r"
            ).id
            for i in range(n)
        ]


def test_claim_takes_due_rows_oldest_first_once(session_factory: sessionmaker[Session]) -> None:
    ids = queue(session_factory, 3)
    with session_factory.begin() as s:
        assert [r.id for r in ob.claim_due(s, T0 + S, 10, "w1")] == ids[:2]  # the third is not due yet
    with session_factory.begin() as s:
        rows = ob.claim_due(s, T0 + 5 * S, 10, "w2")
        assert [r.id for r in rows] == ids[2:]
        assert rows[0].status is OutboxStatus.SENDING and rows[0].claimed_by == "w2" and rows[0].attempts == 1
        assert ob.pending_count(s) == 3 and ob.lag(s, T0 + 5 * S) == 5 * S


def test_sent_rows_leave_the_queue(session_factory: sessionmaker[Session]) -> None:
    (rid,) = queue(session_factory, 1)
    with session_factory.begin() as s:
        ob.claim_due(s, T0, 10, "w1")
        assert ob.mark_sent(s, rid, T0 + S, "wx-msg-1")
        assert not ob.mark_sent(s, rid, T0 + S, "wx-msg-1")
    with session_factory() as s:
        row = s.get_one(Outbox, rid)
        assert (row.status, row.platform_message_id, row.sent_at) == (OutboxStatus.SENT, "wx-msg-1", T0 + S)
        assert ob.pending_count(s) == 0 and ob.lag(s, T0) == timedelta()


def test_failures_back_off_exponentially_then_die(session_factory: sessionmaker[Session]) -> None:
    (rid,) = queue(session_factory, 1)
    now, delays = T0, []
    for _ in range(3):
        with session_factory.begin() as s:
            (row,) = ob.claim_due(s, now, 10, "w1")
            status = ob.mark_failed(s, rid, now, "timeout", 10.0, 4, rng=random.Random(7))
            assert status is OutboxStatus.PENDING
            delays.append(s.get_one(Outbox, rid).next_attempt_at - now)
            now = s.get_one(Outbox, rid).next_attempt_at
    for n, d in enumerate(delays):  # base·2ⁿ, jittered into [half, full]
        assert 5 * 2**n <= d.total_seconds() <= 10 * 2**n
    with session_factory.begin() as s:
        ob.claim_due(s, now, 10, "w1")
        assert ob.mark_failed(s, rid, now, "timeout", 10.0, 4) is OutboxStatus.DEAD
        assert ob.claim_due(s, now + timedelta(days=1), 10, "w1") == []


def test_release_stale_returns_dead_senders_rows(session_factory: sessionmaker[Session]) -> None:
    a, b = queue(session_factory, 2)
    with session_factory.begin() as s:
        ob.claim_due(s, T0, 1, "crashed")
        ob.claim_due(s, T0 + 50 * S, 1, "alive")
    with session_factory.begin() as s:
        assert ob.release_stale(s, T0 + 60 * S, older_than_s=30) == 1
    with session_factory() as s:
        assert s.get_one(Outbox, a).status is OutboxStatus.PENDING
        assert s.get_one(Outbox, b).status is OutboxStatus.SENDING


def test_concurrent_claims_take_disjoint_rows(pg_session_factory: sessionmaker[Session]) -> None:
    queue(pg_session_factory, 4)
    with pg_session_factory.begin() as s1, pg_session_factory.begin() as s2:
        first = {r.id for r in ob.claim_due(s1, T0 + 10 * S, 2, "w1")}
        second = {r.id for r in ob.claim_due(s2, T0 + 10 * S, 10, "w2")}  # skips w1's locked rows
        assert len(first) == 2 and len(second) == 2 and not first & second


def test_sender_loop_survives_a_redis_flush(
    pg_session_factory: sessionmaker[Session], redis_url: str
) -> None:
    """Pacing state lives in Redis, delivery state in the database: a flush only resets pacing."""
    queue(pg_session_factory, 6)
    coord, client = RedisCoordinator(redis_url), redis.Redis.from_url(redis_url)
    sent: list[int] = []
    for step in range(6):
        if step == 3:
            client.flushdb()
        with pg_session_factory.begin() as s:
            for row in ob.claim_due(s, T0 + 10 * S, 1, "sender"):
                assert coord.acquire_send_slot("bot", row.room_id, 0.001) >= 0
                sent.append(row.id)
                ob.mark_sent(s, row.id, T0 + 10 * S, f"wx-{row.id}")
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 6
    with pg_session_factory() as s:
        assert ob.pending_count(s) == 0
    client.close()


class _Platform:
    """A platform that remembers what it accepted and, if `confirms`, can be asked about it."""

    def __init__(self) -> None:
        self.received: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> str | None:
        self.received.append(message)
        return f"wx-{len(self.received)}"


class _ConfirmingPlatform(_Platform):
    async def confirm_delivered(self, outbox_ids: Sequence[int]) -> set[int] | None:
        accepted = {i for m in self.received for i in m.outbox_ids}
        return accepted & set(outbox_ids)


@pytest.mark.parametrize("confirms", [True, False], ids=["confirming", "plain"])
@pytest.mark.anyio
async def test_a_restarted_sender_takes_back_its_predecessors_claims(
    session_factory: sessionmaker[Session], confirms: bool
) -> None:
    """The window between the platform accepting and mark_sent: settled exactly when the platform can say."""
    ids = queue(session_factory, 4)
    platform = _ConfirmingPlatform() if confirms else _Platform()
    clock = lambda: T0 + 10 * S  # noqa: E731
    settings = OutboxSettings(min_interval_s=0, merge_window_s=0)
    dead = OutboxSender(session_factory, platform, LocalCoordinator(), settings, clock, instance_id="bot-a")
    with session_factory.begin() as s:  # the dead process claimed three rows and sent one of them
        ob.claim_due(s, T0 + 2 * S, 10, dead.worker_id)
        ob.claim_due(s, T0 + 10 * S, 1, "bot-b/77-other")  # another instance's claim: not ours to take
    await platform.send(OutgoingMessage("好的", room_id="r", outbox_ids=(ids[0],)))

    restarted = OutboxSender(
        session_factory, platform, LocalCoordinator(), settings, clock, instance_id="bot-a"
    )
    assert await restarted.recover_claims() == 3
    with session_factory() as s:
        status = {i: s.get_one(Outbox, i).status for i in ids}
    delivered_before = OutboxStatus.SENT if confirms else OutboxStatus.PENDING
    assert status == {
        ids[0]: delivered_before,
        ids[1]: OutboxStatus.PENDING,
        ids[2]: OutboxStatus.PENDING,
        ids[3]: OutboxStatus.SENDING,
    }
    while await restarted.drain_once():
        pass
    sends = [i for m in platform.received for i in m.outbox_ids]
    assert sorted(sends) == ([ids[0], ids[1], ids[2]] if confirms else [ids[0], ids[0], ids[1], ids[2]])


@pytest.mark.anyio
async def test_a_sender_does_not_send_rows_taken_over_while_it_waited_its_turn(
    session_factory: sessionmaker[Session],
) -> None:
    """A round longer than the stale timeout: the rows released and re-claimed elsewhere are skipped."""
    ids = queue(session_factory, 2)
    with session_factory.begin() as s:  # a second room, so the round has two sends
        ids.append(
            ob.enqueue(s, dedupe_key="k-other", kind=OutboxKind.REPLY, text="好", now=T0, room_id="r2").id
        )
    platform = _Platform()
    now = [T0 + 10 * S]

    async def slow_turn(seconds: float) -> None:  # while waiting, the claims go stale and are taken over
        now[0] += timedelta(seconds=400)
        with session_factory.begin() as s:
            ob.release_stale(s, now[0], older_than_s=300)
            ob.claim_due(s, now[0], 10, "bot-b/99-other")

    class Slow(LocalCoordinator):
        def acquire_send_slot(self, account: str, room: str | None, min_interval_s: float) -> float:
            return 1.0

    sender = OutboxSender(
        session_factory,
        platform,
        Slow(),
        OutboxSettings(merge_window_s=0),
        lambda: now[0],
        sleep=slow_turn,
        instance_id="bot-a",
    )
    assert await sender.drain_once() == 0
    assert platform.received == []
    with session_factory() as s:
        assert {s.get_one(Outbox, i).claimed_by for i in ids} == {"bot-b/99-other"}


# ---- an idle sender sleeps until new rows wake it ------------------------------------------------


class _Arrivals(_Platform):
    """Signals each message the sender hands over."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = anyio.Event()

    async def send(self, message: OutgoingMessage) -> str | None:
        self.arrived.set()
        return await super().send(message)


def _awake_sender(sf: sessionmaker[Session], platform: _Platform) -> OutboxSender:
    settings = OutboxSettings(min_interval_s=0, merge_window_s=0, safety_poll_s=600)
    return OutboxSender(sf, platform, LocalCoordinator(), settings, clock=lambda: datetime.now(UTC))


@pytest.mark.anyio
async def test_an_idle_sender_is_woken_by_a_committed_row(session_factory: sessionmaker[Session]) -> None:
    """The safety poll is ten minutes: only the wake-up on commit can deliver within the test's limit."""
    platform = _Arrivals()
    sender, stop = _awake_sender(session_factory, platform), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(sender.run, stop)
        with anyio.fail_after(5):
            while sender.rounds < 1:  # it has looked and found nothing (a later commit wakes it)
                await anyio.sleep(0.01)
        with session_factory.begin() as s:
            ob.enqueue(
                s, dedupe_key="w", kind=OutboxKind.REPLY, text="收到", now=datetime.now(UTC), room_id="r"
            )
        with anyio.fail_after(10):
            await platform.arrived.wait()
        stop.set()
    assert [m.text for m in platform.received] == ["收到"]


@pytest.mark.anyio
async def test_another_process_wakes_the_sender_through_notify(
    pg_session_factory: sessionmaker[Session],
) -> None:
    """A row inserted and announced by another connection (another process) reaches a sleeping sender."""
    platform = _Arrivals()
    sender, stop = _awake_sender(pg_session_factory, platform), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(sender.run, stop)
        with anyio.fail_after(5):
            while not sender.listening.is_set():  # its LISTEN connection starts in a thread
                await anyio.sleep(0.01)
        engine = pg_session_factory.kw["bind"]
        with engine.begin() as conn:  # Core, not enqueue: no in-process wake-up, only the NOTIFY
            conn.execute(
                sa_insert(Outbox).values(
                    dedupe_key="n",
                    kind=OutboxKind.REPLY,
                    text="来自另一进程",
                    room_id="r",
                    mention_ids=[],
                    status=OutboxStatus.PENDING,
                    attempts=0,
                    next_attempt_at=datetime.now(UTC),
                    created_at=datetime.now(UTC),
                )
            )
            conn.execute(text("SELECT pg_notify(:c, '')"), {"c": ob.CHANNEL})
        with anyio.fail_after(10):
            await platform.arrived.wait()
        stop.set()
    assert [m.text for m in platform.received] == ["来自另一进程"]


def test_a_queued_row_notifies_other_processes_at_commit_and_only_then(
    pg_session_factory: sessionmaker[Session],
) -> None:
    """The NOTIFY goes with the row's INSERT (no statement of its own), is delivered at commit, and a
    savepoint rolled back with its row does not take away the notification the kept rows need."""
    engine = pg_session_factory.kw["bind"]
    raw = engine.raw_connection()
    listener = raw.driver_connection
    raw.detach()  # in autocommit mode below: never handed back to the pool
    try:
        listener.autocommit = True
        listener.execute(f"LISTEN {ob.CHANNEL}")

        def notified() -> int:
            return len(list(listener.notifies(timeout=0.5, stop_after=1)))

        seen: list[str] = []
        record = lambda _c, _cur, statement, *_r: seen.append(statement)  # noqa: E731
        sa_event.listen(engine, "before_cursor_execute", record)
        try:
            with pg_session_factory.begin() as s:
                ob.enqueue(s, dedupe_key="a", kind=OutboxKind.REPLY, text="好的", now=T0, room_id="r")
            assert notified() == 1
            assert not any(x.lstrip().startswith("SELECT pg_notify") for x in seen), seen
            with pytest.raises(RuntimeError), pg_session_factory.begin() as s:
                ob.enqueue(s, dedupe_key="b", kind=OutboxKind.REPLY, text="好的", now=T0, room_id="r")
                raise RuntimeError("rolled back")
            assert notified() == 0
            with pg_session_factory.begin() as s:
                ob.announce(s)  # a row added another way, then a savepoint with a row, rolled back
                with pytest.raises(RuntimeError), s.begin_nested():
                    ob.enqueue(s, dedupe_key="c", kind=OutboxKind.REPLY, text="好的", now=T0, room_id="r")
                    raise RuntimeError("the savepoint rolls back")
            assert notified() == 1
        finally:
            sa_event.remove(engine, "before_cursor_execute", record)
    finally:
        listener.close()

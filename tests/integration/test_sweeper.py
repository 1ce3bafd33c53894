"""Deadline sweeper: ladder recipients and times, digests, suspension, restarts (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Outbox, ReminderLog, RoleAssignment, Ticket, TicketDeadline
from gridbot.models.enums import DeadlineKind, OutboxKind, Priority, Role, TicketKind, TicketStatus
from gridbot.models.messaging.coordination import LocalCoordinator, RedisCoordinator
from gridbot.models.messaging.outbox import claim_due
from gridbot.models.tickets import deadlines, digests, service, sweeper
from gridbot.models.tickets.sla import load_policy
from tests.conftest import World, build_world

pytestmark = pytest.mark.integration
POLICY = load_policy()
T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai
M = timedelta(minutes=1)


def open_tickets(
    sf: sessionmaker[Session],
    grid: int,
    n: int = 1,
    *,
    assignee: int | None = None,
    priority: Priority = Priority.URGENT,
    at: datetime = T0,
) -> list[int]:
    """Insert tickets directly and start their clocks (as the lifecycle's open_ticket does)."""
    ids = []
    with sf.begin() as s:
        for _ in range(n):
            t = Ticket(
                kind=TicketKind.INCIDENT,
                category="property",
                priority=priority,
                grid_id=grid,
                assignee_id=assignee,
            )
            s.add(t)
            s.flush()
            deadlines.start_clocks(s, t, at, POLICY)
            ids.append(t.id)
    return ids


def run(sf: sessionmaker[Session], now: datetime, **kw: Any) -> sweeper.SweepResult:
    return sweeper.sweep(sf, POLICY, now, kw.pop("coordinator", LocalCoordinator()), **kw)


def outbox(sf: sessionmaker[Session]) -> list[Outbox]:
    with sf() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.id)))


def count_logs(sf: sessionmaker[Session]) -> int:
    with sf() as s:
        return int(s.scalar(select(func.count()).select_from(ReminderLog)) or 0)


def test_ladder_reaches_the_right_people_at_the_right_times(
    session_factory: sessionmaker[Session], world: World
) -> None:
    (tid,) = open_tickets(session_factory, world.grid, assignee=world.worker)
    # urgent first response: 10 min → warn +8, due +10, +50 % at +15, +100 % at +20
    assert run(session_factory, T0 + 7 * M).fired == 0
    expected = [(8, "wx-wang", OutboxKind.REMINDER), (10, "wx-chen", OutboxKind.ESCALATION)]
    expected += [(15, "wx-sun", OutboxKind.ESCALATION), (20, "wx-zhao", OutboxKind.ESCALATION)]
    for level, (minutes, who, kind) in enumerate(expected, start=1):
        res = run(session_factory, T0 + minutes * M)
        assert (res.fired, res.digests) == (1, 1)
        row = outbox(session_factory)[-1]
        if level < 3:  # the assignee and the grid leader: @-mentioned in the grid's group
            assert row.mention_ids == [who] and row.room_id == world.room and row.kind is kind
        else:  # community and street 督办: a direct message, not in front of residents
            assert (row.recipient_platform_id, row.room_id, row.kind) == (who, None, kind)
        assert f"#{tid} 物业服务 首次响应" in row.text
        with session_factory() as s:
            assert s.get_one(Ticket, tid).escalation_level == level
    assert "【工单提醒】您有1张工单即将超时" in outbox(session_factory)[0].text
    assert "超时10分钟（街道督办）" in outbox(session_factory)[-1].text
    with session_factory() as s:
        d = s.scalars(select(TicketDeadline).where(TicketDeadline.kind == DeadlineKind.FIRST_RESPONSE)).one()
        assert d.stopped_at is None and d.breached_at is None  # the sweep writes no deadline row
        assert sorted(s.scalars(select(ReminderLog.level))) == [1, 2, 3, 4]
        assert s.get_one(Ticket, tid).version == 1  # the sweeper never makes a user's edit stale


def test_after_an_outage_only_the_highest_due_level_is_told(
    session_factory: sessionmaker[Session], world: World
) -> None:
    (tid,) = open_tickets(session_factory, world.grid, assignee=world.worker)
    res = run(session_factory, T0 + 12 * M)  # warned at +8 and due at +10: the sweeper was down
    assert (res.fired, res.passed_over, res.digests) == (1, 1, 1)
    (row,) = outbox(session_factory)
    assert row.mention_ids == ["wx-chen"] and row.kind is OutboxKind.ESCALATION  # not 小王's warning
    assert f"#{tid} 物业服务 首次响应 超时2分钟" in row.text
    with session_factory() as s:
        log = s.scalars(select(ReminderLog)).one()
        assert (log.level, log.skipped) == (2, 1)
        assert s.get_one(Ticket, tid).escalation_level == 2
    res = run(session_factory, T0 + 15 * M)  # back to normal: the next level on its own
    assert (res.fired, res.passed_over) == (1, 0)
    assert outbox(session_factory)[-1].recipient_platform_id == "wx-sun"


def test_a_ticket_a_user_holds_still_shows_the_level_told(
    session_factory: sessionmaker[Session], world: World
) -> None:
    """The sweep writes no ticket row: a ticket locked by a user's edit is told and shows its level."""
    if session_factory.kw["bind"].dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: no ticket row is held while a sweep runs")
    (tid,) = open_tickets(session_factory, world.grid, assignee=world.worker)
    with session_factory() as user, user.begin():
        user.get_one(Ticket, tid).text_masked = "电梯坏了，已报修"  # an edit not yet committed
        user.flush()
        res = run(session_factory, T0 + 12 * M)  # does not wait for the user's transaction
        assert (res.fired, res.passed_over) == (1, 1)
    with session_factory() as s:
        assert s.get_one(Ticket, tid).escalation_level == 2


def test_a_level_already_logged_is_not_told_again(
    session_factory: sessionmaker[Session], world: World
) -> None:
    open_tickets(session_factory, world.grid, assignee=world.worker)
    assert run(session_factory, T0 + 8 * M).fired == 1
    fr = TicketDeadline.kind == DeadlineKind.FIRST_RESPONSE
    with session_factory.begin() as s:  # its clocks moved two minutes later after the warning
        d = s.scalars(select(TicketDeadline).where(fr)).one()
        d.warn_at, d.due_at = d.warn_at + 2 * M, d.due_at + 2 * M
        d.escalate1_at, d.escalate2_at = d.escalate1_at + 2 * M, d.escalate2_at + 2 * M
        deadlines.rearm(s, [d])
    res = run(session_factory, T0 + 11 * M)  # the warning's new instant passed: told already
    assert (res.fired, res.digests) == (0, 0) and count_logs(session_factory) == 1
    res = run(session_factory, T0 + 12 * M)  # the deadline's new instant: told, not stuck
    assert (res.fired, res.passed_over) == (1, 0) and count_logs(session_factory) == 2


def test_a_clock_set_before_the_watermark_still_fires(
    session_factory: sessionmaker[Session], world: World
) -> None:
    assert run(session_factory, T0 + 60 * M).fired == 0  # the watermark is at T0+60 now
    open_tickets(session_factory, world.grid, assignee=world.worker, at=T0)  # levels at +8 ... +20
    res = run(session_factory, T0 + 61 * M)
    assert (res.fired, res.passed_over) == (1, 3)  # its first response at level 4, not passed by
    assert run(session_factory, T0 + 62 * M).fired == 0


def test_a_ticket_filed_behind_the_watermark_still_fires(
    session_factory: sessionmaker[Session], world: World
) -> None:
    later = T0 + timedelta(days=7)
    assert run(session_factory, later).fired == 0  # the watermark is a week on
    with session_factory.begin() as s:  # filed as the lifecycle files, its clocks a week behind
        ticket = service.open_ticket(
            s,
            grid_id=world.grid,
            kind=TicketKind.INCIDENT,
            category="property",
            category_label="物业",
            priority=Priority.NORMAL,
            text="x",
            text_masked="x",
            reporter_id=world.resident,
            now=T0,
            policy=POLICY,
            assignee_id=world.worker,
        )
        warnings = [d.warn_at for d in ticket.deadlines]
    assert min(warnings) > T0 + deadlines.REARM_MARGIN  # the watermark checked in the clocks' INSERT
    res = run(session_factory, later + M)
    assert res.fired == sum(w <= later for w in warnings) > 0
    assert run(session_factory, later + 2 * M).fired == 0


def test_a_clock_moved_during_a_sweep_is_read_by_the_next(
    session_factory: sessionmaker[Session], world: World
) -> None:
    run(session_factory, T0)  # the watermark is at T0: this sweep reads from there
    open_tickets(session_factory, world.grid, 3, assignee=world.worker)

    def meanwhile(_batch: int) -> None:  # after the list was read: a new clock already due
        open_tickets(session_factory, world.grid, assignee=world.worker, at=T0)

    res = run(session_factory, T0 + 30 * M, batch_size=2, after_batch=meanwhile)
    assert res.fired == 3 and count_logs(session_factory) == 3
    res = run(session_factory, T0 + 31 * M)  # the watermark was not moved past it
    assert res.fired == 1 and count_logs(session_factory) == 4
    assert run(session_factory, T0 + 32 * M).fired == 0


def test_one_digest_per_person_per_sweep_across_batches(
    session_factory: sessionmaker[Session], world: World
) -> None:
    ids = open_tickets(session_factory, world.grid, 3, assignee=world.worker, priority=Priority.NORMAL)
    res = run(session_factory, T0 + 50 * M, batch_size=2)  # first response warns at 48 working minutes
    assert (res.examined, res.fired, res.digests, res.batches) == (3, 3, 1, 2)
    (row,) = outbox(session_factory)
    assert row.mention_ids == ["wx-wang"] and row.text.startswith("【工单提醒】您有3张工单即将超时：")
    assert all(f"#{i} 物业服务 首次响应 剩余10分钟" in row.text for i in ids)


def test_a_long_digest_lists_the_closest_deadlines_first_and_counts_the_rest(
    session_factory: sessionmaker[Session], world: World
) -> None:
    """After an outage of hours: the first lines are the earliest due of all, not of the latest ticket."""
    # 30 tickets over 2.5 hours, the later a ticket's number the earlier it was opened
    opened = {
        open_tickets(session_factory, world.grid, assignee=world.worker, at=T0 + (29 - i) * 5 * M)[0]: i
        for i in range(30)
    }
    res = run(session_factory, T0 + 4 * 60 * M)  # every first response at level 4: the street admin
    zhao = next(r for r in outbox(session_factory) if r.recipient_platform_id == "wx-zhao")
    with session_factory() as s:
        told = s.execute(
            select(ReminderLog.ticket_id, TicketDeadline.due_at, ReminderLog.deadline_kind)
            .join(
                TicketDeadline,
                (TicketDeadline.ticket_id == ReminderLog.ticket_id)
                & (TicketDeadline.kind == ReminderLog.deadline_kind),
            )
            .where(ReminderLog.level == 4)
        ).all()
    first = [t for t, _, _ in sorted(told, key=lambda r: (r[1], r[0], r[2]))[: digests.MAX_LINES]]
    assert res.fired >= 30 and len(told) > digests.MAX_LINES
    assert [int(n) for n in re.findall(r"#(\d+) ", zhao.text)] == first
    assert first[0] == max(opened) and f"…等共{len(told)}项" in zhao.text


def test_a_digest_the_sender_already_took_is_not_rewritten(
    session_factory: sessionmaker[Session], world: World
) -> None:
    open_tickets(session_factory, world.grid, 3, assignee=world.worker, priority=Priority.NORMAL)

    def sender_claims(_batch: int) -> None:
        with session_factory.begin() as s:
            assert len(claim_due(s, T0 + 50 * M, 10, "sender-1")) == 1

    res = run(session_factory, T0 + 50 * M, batch_size=2, after_batch=sender_claims)
    first, second = outbox(session_factory)
    assert res.digests == 2 and first.text.count("#") == 2 and second.text.count("#") == 1


def test_unassigned_goes_to_the_grid_workers_and_roomless_grid_gets_direct_messages(
    session_factory: sessionmaker[Session], world: World
) -> None:
    open_tickets(session_factory, world.grid)
    open_tickets(session_factory, world.grid2, assignee=world.worker)  # grid2 has no bound room
    assert run(session_factory, T0 + 8 * M).digests == 3  # 小王 (both tickets), 李四, 周兼职
    rows = {tuple(r.mention_ids) or r.recipient_platform_id: r for r in outbox(session_factory)}
    assert set(rows) == {"wx-wang", ("wx-li",), ("wx-zhou",)}
    wang = rows["wx-wang"]  # tickets in two grids: one direct message, no cross-group leak
    assert wang.room_id is None and wang.text.count("#") == 2


def test_met_and_closed_deadlines_never_fire(session_factory: sessionmaker[Session], world: World) -> None:
    met, closed = open_tickets(session_factory, world.grid, 2, assignee=world.worker)
    with session_factory.begin() as s:
        deadlines.meet(s, s.get_one(Ticket, met), DeadlineKind.FIRST_RESPONSE, T0 + M)
        t = s.get_one(Ticket, closed)
        t.status = TicketStatus.CLOSED
    res = run(session_factory, T0 + 30 * M)
    assert res.fired == 0 and count_logs(session_factory) == 0


def test_suspension_pauses_the_clock(session_factory: sessionmaker[Session], world: World) -> None:
    (tid,) = open_tickets(session_factory, world.grid, assignee=world.worker)
    with session_factory.begin() as s:
        deadlines.pause(s, s.get_one(Ticket, tid), T0 + 5 * M)
    assert run(session_factory, T0 + 3 * 60 * M).fired == 0  # far past every level: nothing fires
    with session_factory.begin() as s:
        deadlines.resume(s, s.get_one(Ticket, tid), T0 + 35 * M, POLICY)
        fr = s.scalars(select(TicketDeadline).where(TicketDeadline.kind == DeadlineKind.FIRST_RESPONSE)).one()
        assert fr.due_at == T0 + 40 * M and fr.warn_at == T0 + 38 * M  # moved by the 30 paused minutes
        assert fr.paused_at is None
    assert run(session_factory, T0 + 37 * M).fired == 0
    assert run(session_factory, T0 + 38 * M).fired == 1


def test_suspension_over_lunch_shifts_working_deadlines_by_working_time(
    session_factory: sessionmaker[Session], world: World
) -> None:
    (tid,) = open_tickets(session_factory, world.grid, assignee=world.worker, priority=Priority.NORMAL)
    with session_factory.begin() as s:
        t = s.get_one(Ticket, tid)
        deadlines.pause(s, t, T0 + 2 * 60 * M)  # 11:00 local
        deadlines.resume(s, t, T0 + 5 * 60 * M, POLICY)  # 14:00 local: 1.5 working hours paused
        fb = s.scalars(select(TicketDeadline).where(TicketDeadline.kind == DeadlineKind.FEEDBACK)).one()
        assert fb.due_at == T0 + timedelta(days=1, hours=1, minutes=30)  # Wednesday 10:30, not 09:00


def test_restart_after_a_committed_batch_fires_the_rest_once(
    session_factory: sessionmaker[Session], world: World
) -> None:
    open_tickets(session_factory, world.grid, 5, assignee=world.worker)  # 10 deadlines, all 4 levels due

    def crash(batch: int) -> None:
        raise RuntimeError("process killed")

    with pytest.raises(RuntimeError):
        run(session_factory, T0 + 9 * 60 * M, batch_size=2, after_batch=crash)
    assert count_logs(session_factory) == 2  # the first batch committed: one told level a deadline
    first_rows = len(outbox(session_factory))
    res = run(session_factory, T0 + 9 * 60 * M, batch_size=2)
    assert (res.fired, res.passed_over) == (8, 24) and count_logs(session_factory) == 10
    assert len(outbox(session_factory)) == first_rows + 1  # the street admin's digest of the rest
    assert run(session_factory, T0 + 9 * 60 * M).fired == 0


def test_crash_inside_a_batch_rolls_it_back_and_refires(
    session_factory: sessionmaker[Session], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_tickets(session_factory, world.grid, 5, assignee=world.worker)
    real, calls = sweeper._insert_logs, []

    def flaky(*a: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return real(*a)

    monkeypatch.setattr(sweeper, "_insert_logs", flaky)
    with pytest.raises(RuntimeError):
        run(session_factory, T0 + 9 * 60 * M, batch_size=2)
    assert count_logs(session_factory) == 2
    monkeypatch.setattr(sweeper, "_insert_logs", real)
    assert run(session_factory, T0 + 9 * 60 * M, batch_size=2).fired == 8
    assert count_logs(session_factory) == 10


def test_a_held_lock_skips_the_sweep(session_factory: sessionmaker[Session], world: World) -> None:
    open_tickets(session_factory, world.grid, assignee=world.worker)
    coord = LocalCoordinator()
    with coord.lock(sweeper.LOCK_NAME, 60) as held:
        assert held.acquired
        assert run(session_factory, T0 + 9 * M, coordinator=coord).skipped
    assert run(session_factory, T0 + 9 * M, coordinator=coord).fired == 1


# ---- several instances, PostgreSQL + Redis -------------------------------------------------------

ALL_DUE = T0 + 9 * 60 * M  # every level of every urgent deadline has passed
N = 40  # tickets: 2 deadlines each, told once at level 4 (levels 1-3 passed over)


def _race(sf: sessionmaker[Session], coordinators: list[Any]) -> list[sweeper.SweepResult]:
    """Start one sweeper per coordinator at the same instant, each in its own thread and sessions."""
    barrier = threading.Barrier(len(coordinators))

    def one(coord: Any) -> sweeper.SweepResult:
        barrier.wait()
        return sweeper.sweep(sf, POLICY, ALL_DUE, coord, batch_size=7)

    with ThreadPoolExecutor(len(coordinators)) as pool:
        return list(pool.map(one, coordinators))


def test_two_sweepers_sharing_redis_fire_each_level_once(
    pg_session_factory: sessionmaker[Session], redis_url: str
) -> None:
    with pg_session_factory.begin() as s:
        w = build_world(s)
    open_tickets(pg_session_factory, w.grid, N, assignee=w.worker)
    coords = [RedisCoordinator(redis_url), RedisCoordinator(redis_url)]
    results = _race(pg_session_factory, coords)
    assert sum(r.fired for r in results) == count_logs(pg_session_factory) == N * 2
    assert sum(r.passed_over for r in results) == N * 2 * 3
    # one digest to the one person the highest level goes to: 赵科长 (street 督办)
    recipients = sorted((r.mention_ids or [r.recipient_platform_id])[0] for r in outbox(pg_session_factory))
    assert recipients == ["wx-zhao"]


def test_two_sweepers_without_a_shared_lock_still_fire_each_level_once(
    pg_session_factory: sessionmaker[Session],
) -> None:
    """As if the lock were lost: the watermark row (locked a batch, taken over by the later sweep)
    and the UNIQUE reminder log keep it exactly-once."""
    with pg_session_factory.begin() as s:
        w = build_world(s)
    open_tickets(pg_session_factory, w.grid, N, assignee=w.worker)
    results = _race(pg_session_factory, [LocalCoordinator(), LocalCoordinator()])
    assert sum(r.fired for r in results) == count_logs(pg_session_factory) == N * 2
    assert sum(r.examined for r in results) == N * 2  # no deadline row was read by both
    assert 1 <= len(outbox(pg_session_factory)) == sum(r.digests for r in results) <= 2


def test_redis_flushed_mid_run_loses_nothing_and_fires_nothing_twice(
    pg_session_factory: sessionmaker[Session], redis_url: str
) -> None:
    with pg_session_factory.begin() as s:
        w = build_world(s)
    open_tickets(pg_session_factory, w.grid, N, assignee=w.worker)
    client = redis.Redis.from_url(redis_url)
    second: list[sweeper.SweepResult] = []

    def flush_and_start_another(batch: int) -> None:
        if batch == 1:
            client.flushdb()  # the first sweeper's lock is gone: a second instance gets in
            second.append(sweeper.sweep(pg_session_factory, POLICY, ALL_DUE, RedisCoordinator(redis_url), 7))

    first = sweeper.sweep(
        pg_session_factory,
        POLICY,
        ALL_DUE,
        RedisCoordinator(redis_url),
        7,
        after_batch=flush_and_start_another,
    )
    assert not second[0].skipped and second[0].fired > 0
    assert first.fired + second[0].fired == count_logs(pg_session_factory) == N * 2
    rows = len(outbox(pg_session_factory))
    client.flushdb()  # and between sweeps: nothing is re-fired or re-sent
    assert sweeper.sweep(pg_session_factory, POLICY, ALL_DUE, RedisCoordinator(redis_url)).fired == 0
    assert len(outbox(pg_session_factory)) == rows
    client.close()


def test_a_persons_digests_are_held_for_the_quiet_period_but_urgent_ones_are_not(
    session_factory: sessionmaker[Session], world: World
) -> None:
    # normal incidents: 1 working hour to first response, warned at 48 min (12 min before)
    open_tickets(session_factory, world.grid, assignee=world.worker, priority=Priority.NORMAL)
    run(session_factory, T0 + 48 * M)
    (first,) = outbox(session_factory)
    assert first.next_attempt_at == T0 + 48 * M  # sent at once; the quiet period runs to T0+78
    (late,) = open_tickets(
        session_factory, world.grid, assignee=world.worker, priority=Priority.NORMAL, at=T0 + 20 * M
    )
    run(session_factory, T0 + 68 * M)  # its warning: due at T0+80, after the quiet period ends
    (held,) = [r for r in outbox(session_factory) if f"#{late} " in r.text]
    assert held.next_attempt_at == T0 + 78 * M  # held until 30 minutes after the first
    assert f"#{late} " in held.text and "剩余2分钟" in held.text  # as true at T0+78 as when written
    open_tickets(session_factory, world.grid, assignee=world.worker, at=T0 + 58 * M)  # urgent: 10 min
    run(session_factory, T0 + 66 * M)  # its warning at 8 minutes
    urgent = outbox(session_factory)[-1]
    assert urgent.next_attempt_at == T0 + 66 * M  # never held


def test_a_warning_is_never_held_past_the_deadline_it_warns_of(
    session_factory: sessionmaker[Session], world: World
) -> None:
    open_tickets(session_factory, world.grid, assignee=world.worker, priority=Priority.NORMAL)
    run(session_factory, T0 + 48 * M)  # the first digest: the quiet period runs to T0+78
    (soon,) = open_tickets(
        session_factory, world.grid, assignee=world.worker, priority=Priority.NORMAL, at=T0 + 10 * M
    )
    run(session_factory, T0 + 58 * M)  # warns of T0+70: held to T0+78 it would arrive 8 minutes late
    (second,) = [r for r in outbox(session_factory) if f"#{soon} " in r.text]
    assert second.next_attempt_at == T0 + 58 * M  # so it goes now, and says what is true now
    assert f"#{soon} " in second.text and "剩余12分钟" in second.text


def test_a_grid_without_a_leader_tells_its_gridworker_at_the_deadline(
    session_factory: sessionmaker[Session], world: World
) -> None:
    with session_factory.begin() as s:  # many grids have no 网格长 in the organisation sheet
        for ra in s.scalars(select(RoleAssignment).where(RoleAssignment.role == Role.GRID_LEADER)):
            ra.active = False
    (tid,) = open_tickets(session_factory, world.grid, assignee=world.worker)
    run(session_factory, T0 + 8 * M)  # the warning
    res = run(session_factory, T0 + 10 * M)  # level 2, the grid leader's: nobody holds it
    assert (res.fired, res.digests) == (1, 1)
    row = outbox(session_factory)[-1]
    assert row.mention_ids == ["wx-wang"] and row.kind is OutboxKind.REMINDER
    assert f"已超时，请尽快办理：#{tid} 物业服务 首次响应" in row.text and "督促" not in row.text
    run(session_factory, T0 + 15 * M)  # level 3 is held: the community administrator, as usual
    assert outbox(session_factory)[-1].recipient_platform_id == "wx-sun"

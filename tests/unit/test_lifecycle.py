"""The ticket lifecycle: every allowed and forbidden transition, roles and grid scope, events, ratings."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Outbox, Person, Rating, Ticket, TicketEvent
from gridbot.models.enums import DeadlineKind, Priority, RatingScore, TicketKind, TicketStatus
from gridbot.models.errors import (
    ConcurrentUpdate,
    PermissionDenied,
    TicketError,
    TicketNotFound,
    TransitionNotAllowed,
)
from gridbot.models.org.directory import SYSTEM_ACTOR, Actor, actor_for
from gridbot.models.tickets import service as svc
from gridbot.models.tickets.lifecycle import ACTION_LABELS, ALREADY_DONE, RULES, Action
from gridbot.models.tickets.sla import Basis, SLAPolicy, load_policy
from tests.conftest import World

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai


@pytest.fixture(scope="module")
def policy() -> SLAPolicy:
    return load_policy()


def _open(session: Session, world: World, policy: SLAPolicy, **kw: Any) -> Ticket:
    args: dict[str, Any] = dict(
        grid_id=world.grid,
        kind=TicketKind.INCIDENT,
        category="property",
        category_label="物业服务",
        priority=Priority.NORMAL,
        text="3栋楼道灯坏了",
        text_masked="3栋楼道灯坏了",
        reporter_id=world.resident,
        now=NOW,
        policy=policy,
    )
    args.update(kw)
    return svc.open_ticket(session, **args)


def _actor(session: Session, person_id: int) -> Actor:
    person = session.get(Person, person_id)
    assert person is not None
    return actor_for(session, person)


def _do(
    session: Session, action: Action, number: int, actor: Actor, policy: SLAPolicy, world: World
) -> Ticket:
    """Run one action with the arguments it needs."""
    now = NOW + timedelta(minutes=5)
    match action:
        case Action.ACCEPT:
            return svc.accept(session, number, actor, now)
        case Action.RESPOND:
            return svc.respond(session, number, actor, now, "已联系物业")
        case Action.START:
            return svc.start(session, number, actor, now)
        case Action.RESOLVE:
            return svc.resolve(session, number, actor, now, "已修好", policy=policy)
        case Action.SUSPEND:
            return svc.suspend(session, number, actor, now, "等配件")
        case Action.RESUME:
            return svc.resume(session, number, actor, now, policy)
        case Action.TRANSFER:
            return svc.transfer(session, number, actor, now, world.worker2)
        case Action.MERGE:
            target = _open(session, world, policy)
            return svc.merge(session, number, target.id, actor, now)
        case Action.REJECT:
            return svc.reject(session, number, actor, now, "非本网格事项")
        case Action.RECLASSIFY:
            return svc.reclassify(session, number, actor, now, TicketKind.INCIDENT, "facilities", "市政设施")
        case Action.CLOSE:
            return svc.close(session, number, actor, now)
        case Action.REOPEN:
            return svc.reopen(session, number, actor, now, policy)
        case Action.REPRIORITIZE:
            return svc.reprioritize(session, number, actor, now, Priority.URGENT, policy)
        case Action.UNMERGE:
            return svc.unmerge(session, number, actor, now)[0]
    raise AssertionError(action)


# 撤销合并 returns to the status recorded at the merge: tested on its own below
ALLOWED = [(a, s) for a, rule in RULES.items() for s in rule.moves if a is not Action.UNMERGE]
FORBIDDEN = [(a, s) for a, rule in RULES.items() for s in TicketStatus if s not in rule.moves]


@pytest.mark.parametrize(("action", "status"), ALLOWED, ids=[f"{a}-{s}" for a, s in ALLOWED])
def test_allowed_transition(
    sqlite_session_factory: sessionmaker[Session], policy: SLAPolicy, action: Action, status: TicketStatus
) -> None:
    from tests.conftest import build_world

    with sqlite_session_factory.begin() as session:
        world = build_world(session)
        ticket = _open(session, world, policy)
        ticket.status = status
        leader = _actor(session, world.leader)
        result = _do(session, action, ticket.id, leader, policy, world)
        expected = RULES[action].moves[status] or status
        assert result.status is expected
        event = session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id.desc())
        ).first()
        assert event is not None and event.action == action.value
        assert (event.from_status, event.to_status) == (status, expected)


@pytest.mark.parametrize(("action", "status"), FORBIDDEN, ids=[f"{a}-{s}" for a, s in FORBIDDEN])
def test_forbidden_transition(
    sqlite_session_factory: sessionmaker[Session], policy: SLAPolicy, action: Action, status: TicketStatus
) -> None:
    from tests.conftest import build_world

    with sqlite_session_factory() as session:
        world = build_world(session)
        ticket = _open(session, world, policy)
        ticket.status = status
        count = select(func.count()).select_from(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
        events_before = session.scalar(count)
        with pytest.raises(TransitionNotAllowed) as err:
            _do(session, action, ticket.id, _actor(session, world.leader), policy, world)
        message = err.value.user_message
        if (action, status) in ALREADY_DONE:  # asked again after it took effect: no refusal tone
            assert message.endswith(f"无需再「{ACTION_LABELS[action]}」")
        else:
            assert "不能执行" in message or "不在" in message
        assert session.get(Ticket, ticket.id).status is status  # type: ignore[union-attr]
        assert session.scalar(count) == events_before


@pytest.mark.parametrize("who", ["resident", "other_admin", "other_resident"])
def test_outsiders_cannot_act(
    session_factory: sessionmaker[Session], world: World, policy: SLAPolicy, who: str
) -> None:
    with session_factory() as session:
        ticket = _open(session, world, policy)
        actor = _actor(session, getattr(world, who))
        for action in (Action.ACCEPT, Action.RESOLVE, Action.REJECT):
            with pytest.raises(PermissionDenied) as err:
                _do(session, action, ticket.id, actor, policy, world)
            assert "工单" in err.value.user_message
        assert ticket.status is TicketStatus.NEW


def test_worker_of_another_grid_is_refused_and_street_admin_allowed(
    session_factory: sessionmaker[Session], world: World, policy: SLAPolicy
) -> None:
    with session_factory() as session:
        ticket = _open(session, world, policy)
        stranger = actor_for(
            session, session.scalars(select(Person).where(Person.platform_id == "wx-zheng")).one()
        )
        with pytest.raises(PermissionDenied):
            svc.accept(session, ticket.id, stranger, NOW)
        svc.accept(session, ticket.id, _actor(session, world.street_admin), NOW)
        assert ticket.status is TicketStatus.ACCEPTED


def test_unknown_ticket_number(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as session, pytest.raises(TicketNotFound) as err:
        svc.accept(session, 99999, _actor(session, world.worker), NOW)
    assert err.value.user_message == "没有找到工单 #99999，请核对编号"


def test_full_story_writes_events_and_announcements(
    session_factory: sessionmaker[Session], world: World, policy: SLAPolicy
) -> None:
    with session_factory.begin() as session:
        number = _open(session, world, policy).id
        worker = _actor(session, world.worker)
        svc.accept(session, number, worker, NOW + timedelta(minutes=3))
        svc.respond(session, number, worker, NOW + timedelta(minutes=20), "物业下午来修")
        svc.resolve(session, number, worker, NOW + timedelta(hours=3), "已更换灯泡", policy=policy)
    with session_factory() as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None and ticket.status is TicketStatus.RESOLVED
        assert ticket.first_response_at == NOW + timedelta(minutes=3)
        assert ticket.assignee_id == world.worker
        actions = session.scalars(
            select(TicketEvent.action).where(TicketEvent.ticket_id == number).order_by(TicketEvent.id)
        ).all()
        assert actions == ["create", "accept", "respond", "resolve"]
        texts = session.scalars(
            select(Outbox.text).where(Outbox.ticket_id == number).order_by(Outbox.id)
        ).all()
        assert any("物业下午来修" in t for t in texts)
        assert "回复 1 满意 / 2 基本满意 / 3 不满意" in texts[-1]
        mentions = session.scalars(select(Outbox.mention_ids).where(Outbox.ticket_id == number)).all()
        assert all(m == ["wx-zhang"] for m in mentions)


def test_rating_unsatisfied_reopens_and_satisfied_closes(
    session_factory: sessionmaker[Session], world: World, policy: SLAPolicy
) -> None:
    with session_factory.begin() as session:
        number = _open(session, world, policy).id
        worker, resident = _actor(session, world.worker), _actor(session, world.resident)
        svc.resolve(session, number, worker, NOW + timedelta(hours=1), "已处理", policy=policy)
        with pytest.raises(PermissionDenied):
            svc.rate(session, number, _actor(session, world.resident2), NOW, RatingScore.SATISFIED, policy)
        svc.rate(session, number, resident, NOW + timedelta(hours=2), RatingScore.UNSATISFIED, policy)
        ticket = session.get(Ticket, number)
        assert ticket is not None
        assert (ticket.status, ticket.cycle, ticket.resolved_at) == (TicketStatus.IN_PROGRESS, 1, None)
        svc.resolve(session, number, worker, NOW + timedelta(hours=5), "再次处理", policy=policy)
        svc.rate(session, number, resident, NOW + timedelta(hours=6), RatingScore.BASICALLY_SATISFIED, policy)
        assert ticket.status is TicketStatus.CLOSED
        scores = session.scalars(
            select(Rating.score).where(Rating.ticket_id == number).order_by(Rating.cycle)
        ).all()
        assert scores == [RatingScore.UNSATISFIED, RatingScore.BASICALLY_SATISFIED]


def test_rating_window_is_48_hours(
    session_factory: sessionmaker[Session], world: World, policy: SLAPolicy
) -> None:
    with session_factory.begin() as session:
        number = _open(session, world, policy).id
        svc.resolve(session, number, _actor(session, world.worker), NOW, "已处理", policy=policy)
        with pytest.raises(TransitionNotAllowed) as err:
            svc.rate(
                session,
                number,
                _actor(session, world.resident),
                NOW + timedelta(hours=49),
                RatingScore.SATISFIED,
                policy,
            )
        assert "48小时" in err.value.user_message
        assert svc.close_unrated(session, NOW + timedelta(hours=49), SYSTEM_ACTOR) == [number]


def test_merge_moves_reporters_and_refuses_cross_grid(
    session_factory: sessionmaker[Session], world: World, policy: SLAPolicy
) -> None:
    with session_factory.begin() as session:
        first = _open(session, world, policy)
        dup = _open(session, world, policy, reporter_id=world.resident2)
        other = _open(session, world, policy, grid_id=world.grid2)
        worker = _actor(session, world.worker)
        with pytest.raises(TicketError):
            svc.merge(session, dup.id, other.id, _actor(session, world.community_admin), NOW)
        svc.merge(session, dup.id, first.id, worker, NOW)
        assert dup.status is TicketStatus.MERGED and dup.merged_into_id == first.id
        assert {r.person_id for r in first.reporters} == {world.resident, world.resident2}


def test_concurrent_resolve_one_wins(pg_session_factory: sessionmaker[Session], policy: SLAPolicy) -> None:
    """Two gridworkers resolve the same ticket at the same moment on PostgreSQL: one wins."""
    from tests.conftest import build_world

    with pg_session_factory.begin() as session:
        world = build_world(session)
        number = _open(session, world, policy).id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def resolve(person_id: int) -> None:
        with pg_session_factory() as session:
            actor = _actor(session, person_id)
            ticket = session.get(Ticket, number)
            assert ticket is not None
            barrier.wait()
            try:
                svc.resolve(session, number, actor, NOW, f"resolved by {person_id}", policy=policy)
                session.commit()
                outcomes.append("won")
            except ConcurrentUpdate as exc:
                session.rollback()
                outcomes.append(exc.user_message)

    threads = [threading.Thread(target=resolve, args=(p,)) for p in (world.worker, world.worker2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("won") == 1
    loser = next(o for o in outcomes if o != "won")
    assert f"#{number}" in loser
    with pg_session_factory() as session:
        events = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == number)).all()
        assert events.count("resolve") == 1


def test_merge_keeps_urgency_and_the_strictest_deadlines_and_unmerge_restores(
    sqlite_session_factory: sessionmaker[Session], policy: SLAPolicy
) -> None:
    from tests.conftest import build_world

    with sqlite_session_factory.begin() as session:
        world = build_world(session)
        leader = _actor(session, world.leader)
        ordinary = _open(session, world, policy)
        fire = _open(session, world, policy, category="safety", priority=Priority.URGENT, text="5栋着火了")
        svc.accept(session, fire.id, leader, NOW + timedelta(minutes=1))
        due_before = {d.kind: d.due_at for d in ordinary.deadlines}
        svc.merge(session, fire.id, ordinary.id, leader, NOW + timedelta(minutes=2))
        session.refresh(ordinary)
        assert ordinary.priority is Priority.URGENT
        urgent_resolution = next(d.due_at for d in fire.deadlines if d.kind.value == "resolution")
        merged_resolution = next(d.due_at for d in ordinary.deadlines if d.kind.value == "resolution")
        assert merged_resolution == urgent_resolution < due_before[DeadlineKind.RESOLUTION]
        ticket, into = svc.unmerge(session, fire.id, leader, NOW + timedelta(minutes=3))
        assert (ticket.status, into, ticket.merged_into_id) == (TicketStatus.ACCEPTED, ordinary.id, None)
        session.refresh(ordinary)
        assert ordinary.priority is Priority.NORMAL
        assert {d.kind: d.due_at for d in ordinary.deadlines} == due_before
        assert [r.person_id for r in ordinary.reporters] == [world.resident]
        assert all(d.stopped_at is None for d in ticket.deadlines if d.met_at is None)


def test_reprioritize_recomputes_the_clocks(
    sqlite_session_factory: sessionmaker[Session], policy: SLAPolicy
) -> None:
    from tests.conftest import build_world

    with sqlite_session_factory.begin() as session:
        world = build_world(session)
        leader = _actor(session, world.leader)
        t = _open(session, world, policy, priority=Priority.URGENT, needs_review=True)
        first = {d.kind: d.due_at for d in t.deadlines}
        assert first[DeadlineKind.FIRST_RESPONSE] == NOW + timedelta(minutes=10)
        svc.reprioritize(session, t.id, leader, NOW + timedelta(minutes=3), Priority.NORMAL, policy)
        session.refresh(t)
        after = {d.kind: d for d in t.deadlines}
        assert not t.needs_review and t.priority is Priority.NORMAL
        # normal incident: 1 working hour from the report, and a feedback clock it did not have
        assert after[DeadlineKind.FIRST_RESPONSE].due_at == policy.advance(
            NOW, timedelta(hours=1), Basis.WORKING
        )
        assert DeadlineKind.FEEDBACK in after

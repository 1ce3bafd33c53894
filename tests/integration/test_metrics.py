"""Every metric against a hand-computed fixture, per grid and per community/street, on SQLite and PostgreSQL.

The period is local March 2026: [T0, END) with T0 = 2026-03-01 00:00 Asia/Shanghai.
Grids: G001 (300 households), G002 (250), G101 (200, other community), G102 (0 households, added here).
Community scope = G001 + G002; street scope = all four.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.db import is_postgres
from gridbot.models.entities import (
    Grid,
    Message,
    Rating,
    Region,
    ReminderLog,
    Ticket,
    TicketDeadline,
    TicketEvent,
)
from gridbot.models.enums import DeadlineKind, MessageDirection, RatingScore, Role, TicketKind, TicketStatus
from gridbot.models.messaging.engagement import record_member_snapshot
from gridbot.models.metrics import Period, Scope, daily_series, grid_metrics, rank_grids, rules, scope_metrics
from gridbot.models.org import directory as d
from tests.conftest import World

MARCH = Period.local_month(2026, 3)
T0, END = MARCH.start, MARCH.end
H, D, S = timedelta(hours=1), timedelta(days=1), timedelta(seconds=1)
US = timedelta(microseconds=1)
_ids = count(1)


@dataclass
class Ids:
    """Ids the tests need besides the World's."""

    grid: int
    grid2: int
    other_grid: int
    empty_grid: int
    community_path: str
    street_path: str


def _msg(s: Session, grid: int, role: Role | None, at: object, sender: int | None, out: bool = False) -> None:
    s.add(
        Message(
            platform_id=f"m{next(_ids)}",
            direction=MessageDirection.OUTBOUND if out else MessageDirection.INBOUND,
            grid_id=grid,
            sender_id=sender,
            sender_role=role,
            sent_at=at,
        )
    )


def _ticket(
    s: Session, grid: int, created: object, status: TicketStatus, escalation_level: int = 0, **kw: object
) -> Ticket:
    t = Ticket(
        kind=TicketKind.INCIDENT, category="环境卫生", grid_id=grid, created_at=created, status=status, **kw
    )
    s.add(t)
    s.flush()
    if escalation_level:  # as the sweep records it: the highest level told, those below passed over
        s.add(
            ReminderLog(
                ticket_id=t.id,
                deadline_kind=DeadlineKind.RESOLUTION,
                level=escalation_level,
                skipped=escalation_level - 1,
                fired_at=created,
            )
        )
        s.flush()
    return t


def _deadline(
    s: Session, t: Ticket, kind: DeadlineKind, due: object, met: object = None, **kw: object
) -> None:
    s.add(
        TicketDeadline(
            ticket_id=t.id,
            kind=kind,
            started_at=t.created_at,
            due_at=due,
            warn_at=due,
            escalate1_at=due,
            escalate2_at=due,
            met_at=met,
            **kw,
        )  # fmt: skip
    )


def _fr(s: Session, t: Ticket, after: timedelta, due: timedelta = H) -> None:
    """A first response `after` creation, met against a deadline `due` after creation."""
    t.first_response_at = t.created_at + after
    _deadline(s, t, DeadlineKind.FIRST_RESPONSE, t.created_at + due, t.first_response_at)


def _rate(s: Session, t: Ticket, score: RatingScore, at: object, cycle: int = 0) -> None:
    s.add(Rating(ticket_id=t.id, cycle=cycle, score=score, created_at=at))


def build_metrics_world(s: Session, w: World) -> Ids:
    """Messages, tickets, deadlines, ratings and snapshots with the hand-counted values in the tests."""
    grid, grid2, other = (s.get(Grid, i) for i in (w.grid, w.grid2, w.other_grid))
    assert grid and grid2 and other
    empty = d.create_grid(s, "G102", "龙仓巷第二网格", other.community, households=0)
    street = s.get(Region, w.street)
    assert street
    ids = Ids(w.grid, w.grid2, w.other_grid, empty.id, grid.region_path, street.path)
    g, g2, og = w.grid, w.grid2, w.other_grid
    R, W = Role.RESIDENT, Role.GRIDWORKER

    # Messages. G001: resident 4 (T0 included, END-1µs included; END and T0-1s excluded),
    # workers 4 (gridworker ×2, part-time, leader), admin and bot messages not counted; active 2.
    for at, who in (
        (T0, w.resident),
        (T0 + D, w.resident),
        (T0 + 2 * D, w.resident),
        (END - US, w.resident2),
    ):
        _msg(s, g, R, at, who)
    _msg(s, g, R, END, w.resident)
    _msg(s, g, R, T0 - S, w.resident)
    _msg(s, g, W, T0 + H, w.worker)
    _msg(s, g, W, T0 + D - S, w.worker2)  # local 23:59:59 on 1 March
    _msg(s, g, Role.PARTTIME_GRIDWORKER, T0 + 2 * D + H, w.parttime)
    _msg(s, g, Role.GRID_LEADER, T0 + 5 * D, w.leader)
    _msg(s, g, Role.COMMUNITY_ADMIN, T0 + H, w.community_admin)
    _msg(s, g, None, T0 + H, None, out=True)
    # G002: the same resident writes twice there (community active residents stay 2); G101: 1.
    _msg(s, g2, R, T0 + 3 * D, w.resident)
    _msg(s, g2, R, T0 + 4 * D, w.resident)
    _msg(s, og, R, T0 + 3 * D, w.other_resident)

    res, fr = DeadlineKind.RESOLUTION, DeadlineKind.FIRST_RESPONSE
    # --- G001 ---
    t1 = _ticket(s, g, T0 + H, TicketStatus.CLOSED, resolved_at=T0 + H + D, closed_at=T0 + H + 2 * D)
    _fr(s, t1, 10 * timedelta(minutes=1))  # 600 s, on time
    _deadline(s, t1, res, t1.created_at + 3 * D, t1.resolved_at)  # on time
    _rate(s, t1, RatingScore.SATISFIED, T0 + H + 2 * D)
    t2 = _ticket(s, g, T0 + 2 * H, TicketStatus.RESOLVED, resolved_at=T0 + 2 * H + 5 * D, escalation_level=1)
    _fr(s, t2, 30 * timedelta(minutes=1))  # 1800 s, on time
    _deadline(s, t2, res, t2.created_at + 3 * D, t2.resolved_at)  # late
    # t3: first response late (7200 s); resolved on time, rated 不满意, reopened (cycle 1), answered
    # on time and resolved again LATE in cycle 1, rated 基本满意. Only cycle 0 counts for the first
    # response (late) and only the last cycle for the resolution (late).
    t3 = _ticket(s, g, T0 + 3 * H, TicketStatus.CLOSED, cycle=1, resolved_at=T0 + 3 * H + 2 * D)
    t3.closed_at = T0 + 3 * H + 2 * D + H
    _fr(s, t3, 2 * H)
    _deadline(s, t3, res, t3.created_at + 3 * D, t3.created_at + D)
    _rate(s, t3, RatingScore.UNSATISFIED, t3.created_at + D + H)
    s.add(TicketEvent(ticket_id=t3.id, at=t3.created_at + D + H, action="reopen"))
    _deadline(s, t3, fr, t3.created_at + D + 2 * H, t3.created_at + D + 2 * H, cycle=1)
    _deadline(s, t3, res, t3.created_at + D + 2 * H, t3.resolved_at, cycle=1)
    _rate(s, t3, RatingScore.BASICALLY_SATISFIED, t3.created_at + 2 * D + H, cycle=1)
    # t4: first response exactly at its due time (on time), never resolved: overdue, escalated.
    t4 = _ticket(s, g, T0 + 4 * H, TicketStatus.IN_PROGRESS, escalation_level=1)
    _fr(s, t4, H)
    _deadline(s, t4, res, t4.created_at + 3 * D)
    # t5: late in the period, no response yet; resolution not yet due at END.
    t5 = _ticket(s, g, END - 2 * H, TicketStatus.NEW)
    _deadline(s, t5, fr, END - H, breached_at=END - H)
    _deadline(s, t5, res, END + 3 * D)
    # t6 merged, t7 rejected: neither received; their unmet deadlines are not overdue.
    t6 = _ticket(s, g, T0 + 6 * H, TicketStatus.MERGED, first_response_at=T0 + 7 * H)
    t7 = _ticket(
        s, g, T0 + 7 * H, TicketStatus.REJECTED, first_response_at=T0 + 8 * H, rejected_at=T0 + 8 * H
    )
    for t in (t6, t7):
        _deadline(s, t, res, T0 + D)
    # t8 created at END: next period. t9 backlog, escalated, overdue at END but not received.
    _deadline(s, _ticket(s, g, END, TicketStatus.NEW), res, END + 3 * D)
    t9 = _ticket(s, g, T0 - 5 * D, TicketStatus.IN_PROGRESS, escalation_level=2)
    _deadline(s, t9, res, T0 + D)
    # t10 backlog resolved late inside the period (not overdue at END), rated in the period.
    t10 = _ticket(s, g, T0 - 10 * D, TicketStatus.CLOSED, resolved_at=T0 + 2 * D, closed_at=T0 + 3 * D)
    _deadline(s, t10, res, T0 - 7 * D, T0 + 2 * D)
    _rate(s, t10, RatingScore.SATISFIED, T0 + 3 * D)
    # t11 created exactly at T0 (received), answered in 300 s, resolution due after END.
    t11 = _ticket(s, g, T0, TicketStatus.ACCEPTED)
    _fr(s, t11, 5 * timedelta(minutes=1))
    _deadline(s, t11, res, END + D)
    # t12 answered in 1200 s, resolved only after END: not resolved, and overdue at END.
    t12 = _ticket(s, g, T0 + 10 * D, TicketStatus.CLOSED, resolved_at=END + H, closed_at=END)
    _fr(s, t12, 20 * timedelta(minutes=1))
    _deadline(s, t12, res, t12.created_at + 3 * D, END + H)
    _rate(s, t12, RatingScore.SATISFIED, END)
    # t13 backlog, suspended: its clock is paused, so it is not overdue.
    t13 = _ticket(s, g, T0 - 3 * D, TicketStatus.SUSPENDED)
    _deadline(s, t13, res, T0 + 2 * D, paused_at=T0 + D)
    # --- G002 ---
    u1 = _ticket(s, g2, T0 + D, TicketStatus.CLOSED, resolved_at=T0 + 2 * D, closed_at=T0 + 2 * D + H)
    _fr(s, u1, 15 * timedelta(minutes=1))  # 900 s
    _deadline(s, u1, res, u1.created_at + 3 * D, u1.resolved_at)
    _rate(s, u1, RatingScore.BASICALLY_SATISFIED, T0 + 2 * D + H)
    _ticket(s, g2, T0 + 2 * D, TicketStatus.REJECTED, rejected_at=T0 + 2 * D + H)
    u3 = _ticket(s, g2, T0 + 3 * D, TicketStatus.IN_PROGRESS)
    _fr(s, u3, 45 * timedelta(minutes=1))  # 2700 s
    _deadline(s, u3, res, END)  # due exactly at END: not yet past
    # u4 backlog, rejected only after END: still overdue at END.
    u4 = _ticket(s, g2, T0 - 2 * D, TicketStatus.REJECTED, rejected_at=END + H)
    _deadline(s, u4, res, T0 + D)
    # --- G101 --- answered late (5400 s), resolved late, escalated.
    v1 = _ticket(s, og, T0 + D, TicketStatus.RESOLVED, resolved_at=T0 + 10 * D, escalation_level=1)
    _fr(s, v1, 90 * timedelta(minutes=1))
    _deadline(s, v1, res, T0 + 4 * D, v1.resolved_at)
    # v2: answered late (5400 s), resolved on time, rated 不满意 and reopened: in progress again.
    v2 = _ticket(s, og, T0 + 2 * D, TicketStatus.IN_PROGRESS, cycle=1)
    _fr(s, v2, 90 * timedelta(minutes=1))
    _deadline(s, v2, res, T0 + 5 * D, T0 + 3 * D)
    _rate(s, v2, RatingScore.UNSATISFIED, T0 + 3 * D + H)
    s.add(TicketEvent(ticket_id=v2.id, at=T0 + 3 * D + H, action="reopen"))
    _deadline(s, v2, res, END + D, cycle=1)

    # Member snapshots: G001 = 180 (room A, latest before END; the one AT END is next period's) + 60;
    # G002 = 100 (taken before the period, still the latest); G101 has no group; G102 = 10.
    room_a = d.bind_group(s, w.room, grid)
    room_b, room_c = d.bind_group(s, "room-b", grid), d.bind_group(s, "room-c", grid2)
    room_d = d.bind_group(s, "room-d", empty)
    for group, members, at in (
        (room_a, 100, T0 - 10 * D), (room_a, 150, T0 + 5 * D), (room_a, 180, END - H),
        (room_a, 999, END), (room_b, 60, T0 + D), (room_c, 100, T0 - 20 * D), (room_d, 10, T0),
    ):  # fmt: skip
        record_member_snapshot(s, group.id, members, at)
    return ids


@pytest.fixture
def ids(session_factory: sessionmaker[Session], world: World) -> Ids:
    with session_factory.begin() as s:
        return build_metrics_world(s, world)


G001 = dict(
    resident_messages=4, worker_messages=4, active_residents=2,
    received=7, responded=6, responded_on_time=5,  # t1 t2 t3 t4 t5 t11 t12; t5 unanswered; t3 late
    first_response_median_s=1500.0,  # 300 600 1200 | 1800 3600 7200 → (1200 + 1800) / 2
    first_response_p90_s=5400.0,  # position 0.9 × 5 = 4.5 → 3600 + 0.5 × 3600
    resolved=3, resolved_on_time=1, resolved_once=3, reopened=1,  # t1 t2 t3; t2, t3 late; t3 reopened
    rated=4, satisfied=3,  # t1 满意, t3 不满意 + 基本满意, t10 满意 (t12's at END is next period's)
    overdue=3, escalated=2, rejected=1, merged=1,  # overdue t4 t9 t12; escalated t2 t4
    members=240, households=300,
    response_rate=6 / 7, first_response_on_time_rate=5 / 7, resolution_rate=3 / 7,
    on_time_resolution_rate=1 / 7, satisfaction_rate=0.75, reopen_rate=1 / 3, membership_rate=0.8,
)  # fmt: skip
G002 = dict(
    resident_messages=2, worker_messages=0, active_residents=1,
    received=2, responded=2, responded_on_time=2,
    first_response_median_s=1800.0, first_response_p90_s=2520.0,  # 900, 2700: 900 + 0.9 × 1800
    resolved=1, resolved_on_time=1, resolved_once=1, reopened=0,
    rated=1, satisfied=1, overdue=1, escalated=0, rejected=1,  # overdue u4 merged=0, members=100, households=250,
    response_rate=1.0, first_response_on_time_rate=1.0, resolution_rate=0.5,
    on_time_resolution_rate=0.5, satisfaction_rate=1.0, reopen_rate=0.0, membership_rate=0.4,
)  # fmt: skip
G101 = dict(
    resident_messages=1, active_residents=1, received=2, responded=2, responded_on_time=0,
    first_response_median_s=5400.0, first_response_p90_s=5400.0,
    resolved=1, resolved_on_time=0, resolved_once=2, reopened=1, reopen_rate=0.5,  # v2 resolved once
    escalated=1, rated=1, satisfied=0, satisfaction_rate=0.0, overdue=0,
    members=0, households=200, membership_rate=0.0, resolution_rate=0.5, on_time_resolution_rate=0.0,
)  # fmt: skip
G102 = dict(
    received=0, members=10, households=0, membership_rate=None, resolution_rate=None,
    first_response_median_s=None, satisfaction_rate=None, reopen_rate=None, response_rate=None,
)  # fmt: skip
COMMUNITY = dict(
    resident_messages=6, worker_messages=4, active_residents=2,  # one resident wrote in both grids
    received=9, responded=8, responded_on_time=7,
    first_response_median_s=1500.0,  # 300 600 900 1200 | 1800 2700 3600 7200
    first_response_p90_s=4680.0,  # position 6.3 → 3600 + 0.3 × 3600
    resolved=4, resolved_on_time=2, resolved_once=4, reopened=1, rated=5, satisfied=4,
    overdue=4, escalated=2, rejected=2, merged=1, members=340, households=550,
    resolution_rate=4 / 9, on_time_resolution_rate=2 / 9, first_response_on_time_rate=7 / 9,
    satisfaction_rate=0.8, reopen_rate=0.25, membership_rate=340 / 550,
)  # fmt: skip
STREET = dict(
    resident_messages=7, worker_messages=4, active_residents=3,
    received=11, responded=10, responded_on_time=7,
    first_response_median_s=2250.0,  # 300 600 900 1200 1800 | 2700 3600 5400 5400 7200
    first_response_p90_s=5580.0,  # position 8.1 → 5400 + 0.1 × 1800
    resolved=5, resolved_on_time=2, resolved_once=6, reopened=2, rated=6, satisfied=4,
    overdue=4, escalated=3, rejected=2, merged=1, members=350, households=750,
    resolution_rate=5 / 11, on_time_resolution_rate=2 / 11, satisfaction_rate=4 / 6, reopen_rate=2 / 6,
    membership_rate=350 / 750,
)  # fmt: skip


def _check(metrics: object, expected: dict[str, object]) -> None:
    actual = {k: getattr(metrics, k) for k in expected}
    assert actual == pytest.approx(expected)


def test_each_grid_matches_the_hand_count(session_factory: sessionmaker[Session], ids: Ids) -> None:
    with session_factory() as s:
        report = scope_metrics(s, Scope.region(ids.street_path), MARCH)
        for grid_id, expected in (
            (ids.grid, G001),
            (ids.grid2, G002),
            (ids.other_grid, G101),
            (ids.empty_grid, G102),
        ):
            _check(report.by_grid(grid_id), expected)
        _check(grid_metrics(s, ids.grid, MARCH), G001)


def test_community_and_street_totals(session_factory: sessionmaker[Session], ids: Ids) -> None:
    with session_factory() as s:
        community = scope_metrics(s, Scope.region(ids.community_path), MARCH)
        assert [g.grid_id for g in community.grids] == [ids.grid, ids.grid2]
        _check(community.total, COMMUNITY)
        _check(scope_metrics(s, Scope.grids(ids.grid, ids.grid2), MARCH).total, COMMUNITY)
        _check(scope_metrics(s, Scope.region(ids.street_path), MARCH).total, STREET)


def test_what_happens_at_end_belongs_to_the_next_period(
    session_factory: sessionmaker[Session], ids: Ids
) -> None:
    with session_factory() as s:
        g = grid_metrics(s, ids.grid, Period.local_month(2026, 4))
    # t8 created, t12 rated and one resident message sent exactly at March's END
    assert (g.received, g.rated, g.satisfied, g.resident_messages, g.active_residents) == (1, 1, 1, 1, 1)
    assert g.members == 999 + 60  # the snapshot taken at END is April's


def test_an_empty_period_has_no_rates_and_reads_the_latest_snapshot(
    session_factory: sessionmaker[Session], ids: Ids
) -> None:
    with session_factory() as s:
        g = grid_metrics(s, ids.grid, Period.local_month(2026, 5))
    assert (g.received, g.rated, g.resident_messages, g.active_residents) == (0, 0, 0, 0)
    rates = (
        g.response_rate,
        g.resolution_rate,
        g.on_time_resolution_rate,
        g.satisfaction_rate,
        g.reopen_rate,
    )
    assert rates == (None,) * 5
    assert g.first_response_median_s is None and g.first_response_p90_s is None
    assert g.members == 999 + 60  # only the latest snapshot of each group counts
    # unresolved and past due at May's end: t4, t9, and t5, t8, t11 (due in April);
    # t12 (met after March) and t13 (paused) are not
    assert g.overdue == 5


def test_a_zero_length_period_counts_nothing(session_factory: sessionmaker[Session], ids: Ids) -> None:
    with session_factory() as s:
        g = grid_metrics(s, ids.grid, Period(T0, T0))
    assert (g.received, g.resident_messages, g.rated, g.resolution_rate) == (0, 0, 0, None)
    assert g.overdue == 1  # t10 (due T0 - 7 days, met only at T0 + 2 days)
    assert g.members == 100


def test_rank_grids_best_first_with_ties_and_unmeasured_last(
    session_factory: sessionmaker[Session], ids: Ids
) -> None:
    street = Scope.region(ids.street_path)
    with session_factory() as s:
        by_rate = rank_grids(s, street, MARCH, "resolution_rate")
        by_speed = rank_grids(s, street, MARCH, "first_response_median_s")
        by_overdue = rank_grids(s, street, MARCH, "overdue")
        with pytest.raises(ValueError, match="unknown metric"):
            rank_grids(s, street, MARCH, "grid_name")
    ranks = lambda rows: [(r, m.grid_id) for r, m in rows]  # noqa: E731
    # G002 and G101 tie at 0.5, G001 3/7
    assert ranks(by_rate) == [(1, ids.grid2), (1, ids.other_grid), (3, ids.grid), (None, ids.empty_grid)]
    assert ranks(by_speed) == [(1, ids.grid), (2, ids.grid2), (3, ids.other_grid), (None, ids.empty_grid)]
    assert ranks(by_overdue) == [(1, ids.other_grid), (1, ids.empty_grid), (3, ids.grid2), (4, ids.grid)]


def test_daily_series_by_local_day(session_factory: sessionmaker[Session], ids: Ids) -> None:
    window = Period.local_days(date(2026, 3, 1), date(2026, 3, 3))
    with session_factory() as s:
        days = daily_series(s, Scope.grids(ids.grid), window)
    got = [
        (x.day.day, x.resident_messages, x.worker_messages, x.active_residents, x.received, x.rejected)
        + (x.resolved, x.rated, x.satisfied)
        for x in days
    ]
    assert got == [
        # 1 March: resident at T0; worker at T0+1h and 23:59:59 local; t1 t2 t3 t4 t11 received, t7 rejected
        (1, 1, 2, 1, 5, 1, 0, 0, 0),
        # 2 March: t1 resolved; t3's 不满意 rating
        (2, 1, 0, 1, 0, 0, 1, 1, 0),
        # 3 March: part-time worker; t3 (again) and t10 resolved; t1 满意 and t3 基本满意
        (3, 1, 1, 1, 0, 0, 2, 2, 2),
    ]


def test_percentiles_agree_with_postgresql_percentile_cont(
    session_factory: sessionmaker[Session], ids: Ids
) -> None:
    with session_factory() as s:
        if not is_postgres(s):
            pytest.skip(
                "percentile_cont is PostgreSQL-only; the Python fallback is checked by the hand counts"
            )
        seconds = func.extract("epoch", Ticket.first_response_at - Ticket.created_at)
        row = s.execute(
            select(
                func.percentile_cont(0.5).within_group(seconds),
                func.percentile_cont(0.9).within_group(seconds),
            ).where(
                Scope.region(ids.street_path).contains(Ticket.grid_id),
                rules.received(MARCH),
                rules.responded(MARCH.end),
            )
        ).one()
        total = scope_metrics(s, Scope.region(ids.street_path), MARCH).total
    assert (float(row[0]), float(row[1])) == pytest.approx(
        (total.first_response_median_s, total.first_response_p90_s)
    )

"""The published indicators against a hand-computed fixture, the same through models.metrics, the
rollups (what the API and dashboard read), the API, the bulletin and the 统计 command.

March 2026 local: T0 = 1 March 00:00, END = 1 April 00:00 (Asia/Shanghai). In G001 (300 households):
  a  accepted (接单) 10 min after filing, first-response deadline +1 h: on time, signed on time;
     rated 满意 and 「已解决」
  b  answered by a reply (no 接单) after 20 min: on time, not signed; a second resident reported it
     again (催办); rated 基本满意 and 「未解决」
  c  found on patrol (主动发现); accepted 2 h after filing, deadline +1 h: late, signed late
  d  filed END − 2 h, unanswered, deadline END − 1 h: passed, so it counts, late
  e  filed END − 30 min, unanswered, deadline END + 30 min: not yet due, left out of the response rates
  f  rejected (退回)
  g  accepted after 5 min; a resident urged it (催办); rated 满意 without answering 「问题解决了吗」
G002 (250 households): no case at all (无案件). G101 (other community, 200 households): h, accepted on time.
Member snapshots: G001 420 (1.4 per household: 入群率 capped at 100 %), G002 100, G101 none.

Hand counts for G001: received 6 (a b c d e g); due 5 (e not yet); responded 4 (a b c g) → 回复率 80 %;
on time 3 (a b g) → 首次响应及时率 60 %; signed on time 2 (a g) → 及时签收率 40 %; patrol 1 → 1/6;
urged 2 (b g) → 2/6; rejected 1 → 回退率 1/7; 回访 answered 2, solved 1 → 解决率 50 %; rated 3, satisfied 3.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Grid, Rating, Region, Ticket, TicketDeadline, TicketEvent
from gridbot.models.enums import DeadlineKind, RatingScore, TicketKind, TicketStatus
from gridbot.models.messaging.engagement import record_member_snapshot
from gridbot.models.metrics import Period, Scope, scope_metrics
from gridbot.models.metrics.bulletin import monthly_bulletin
from gridbot.models.metrics.rollup_read import grid_node, region_node, reports
from gridbot.models.metrics.rollups import refresh_rollups
from gridbot.models.metrics.views import assess, ranking
from gridbot.models.org import directory as d
from tests.conftest import World

pytestmark = pytest.mark.integration
MARCH = Period.local_month(2026, 3)
T0, END = MARCH.start, MARCH.end
H, D, M = timedelta(hours=1), timedelta(days=1), timedelta(minutes=1)
_n = count(1)

G001 = dict(
    received=6, response_due=5, responded=4, responded_on_time=3, accepted_on_time=2, patrol=1, urged=2,
    rejected=1, solved_answered=2, solved=1, rated=3, satisfied=3, members=420, households=300,
    response_rate=4 / 5, first_response_on_time_rate=3 / 5, on_time_signing_rate=2 / 5, patrol_rate=1 / 6,
    urge_rate=2 / 6, return_rate=1 / 7, solve_rate=1 / 2, satisfaction_rate=1.0, membership_rate=1.0,
    members_per_household=1.4,
)  # fmt: skip
G101 = dict(received=1, response_due=1, responded_on_time=1, accepted_on_time=1, on_time_signing_rate=1.0)


def _ticket(s: Session, grid: int, created: object, status: TicketStatus, **kw: object) -> Ticket:
    t = Ticket(
        kind=TicketKind.INCIDENT,
        category="环境卫生",
        category_label="环境卫生",
        grid_id=grid,
        created_at=created,
        updated_at=created,
        status=status,
        **kw,
    )
    s.add(t)
    s.flush()
    return t


def _first_response(s: Session, t: Ticket, after: timedelta | None, accepted: bool) -> None:
    """A first-response deadline 1 h after filing, met `after` filing (None: not yet answered)."""
    met = None if after is None else t.created_at + after
    t.first_response_at = met
    if accepted:
        t.accepted_at = met
    due = t.created_at + H
    s.add(
        TicketDeadline(
            ticket_id=t.id,
            kind=DeadlineKind.FIRST_RESPONSE,
            started_at=t.created_at,
            due_at=due,
            warn_at=due,
            escalate1_at=due,
            escalate2_at=due,
            met_at=met,
        )  # fmt: skip
    )


def _rate(s: Session, t: Ticket, score: RatingScore, at: object, solved: bool | None) -> None:
    s.add(Rating(ticket_id=t.id, score=score, created_at=at, solved=solved))


def build(s: Session, w: World) -> None:
    g, og = w.grid, w.other_grid
    a = _ticket(s, g, T0 + D, TicketStatus.CLOSED)
    _first_response(s, a, 10 * M, accepted=True)
    _rate(s, a, RatingScore.SATISFIED, T0 + 2 * D, solved=True)
    b = _ticket(s, g, T0 + 2 * D, TicketStatus.CLOSED)
    _first_response(s, b, 20 * M, accepted=False)
    s.add(TicketEvent(ticket_id=b.id, at=b.created_at + H, action="report", actor_id=w.resident2))
    _rate(s, b, RatingScore.BASICALLY_SATISFIED, T0 + 3 * D, solved=False)
    c = _ticket(s, g, T0 + 3 * D, TicketStatus.IN_PROGRESS, source="patrol")
    _first_response(s, c, 2 * H, accepted=True)
    dd = _ticket(s, g, END - 2 * H, TicketStatus.NEW)
    _first_response(s, dd, None, accepted=False)
    e = _ticket(s, g, END - 30 * M, TicketStatus.NEW)
    _first_response(s, e, None, accepted=False)
    _ticket(s, g, T0 + 4 * D, TicketStatus.REJECTED, rejected_at=T0 + 4 * D + H)
    gg = _ticket(s, g, T0 + 5 * D, TicketStatus.CLOSED)
    _first_response(s, gg, 5 * M, accepted=True)
    s.add(TicketEvent(ticket_id=gg.id, at=gg.created_at + 2 * H, action="urge"))
    _rate(s, gg, RatingScore.SATISFIED, T0 + 6 * D, solved=None)
    h = _ticket(s, og, T0 + D, TicketStatus.ACCEPTED)
    _first_response(s, h, 15 * M, accepted=True)
    grid, grid2 = s.get(Grid, g), s.get(Grid, w.grid2)
    assert grid and grid2
    for grid_, members in ((grid, 420), (grid2, 100)):
        group = d.bind_group(s, f"room-{next(_n)}", grid_)
        record_member_snapshot(s, group.id, members, T0)


@pytest.fixture
def built(session_factory: sessionmaker[Session], world: World) -> World:
    with session_factory.begin() as s:
        build(s, world)
    with session_factory.begin() as s:
        refresh_rollups(s, date(2026, 3, 1), date(2026, 4, 2), through=date(2026, 4, 2))
    return world


def _check(actual: object, expected: dict[str, object]) -> None:
    assert {k: getattr(actual, k) for k in expected} == pytest.approx(expected)


def test_live_counts_match_the_hand_count(session_factory: sessionmaker[Session], built: World) -> None:
    with session_factory() as s:
        street = s.get(Region, built.street)
        assert street
        report = scope_metrics(s, Scope.region(street.path), MARCH)
        _check(report.by_grid(built.grid), G001)
        _check(report.by_grid(built.other_grid), G101)
        assert not report.by_grid(built.grid2).has_cases and report.by_grid(built.grid).has_cases


def test_not_yet_due_ticket_counts_once_its_deadline_passes(
    session_factory: sessionmaker[Session], built: World
) -> None:
    # as of 1 April 01:00 e's deadline (00:30) has passed: due 6, 3 on time of 6
    later = Period(T0, END + H)
    with session_factory() as s:
        g = scope_metrics(s, Scope.grids(built.grid), later).by_grid(built.grid)
    assert (g.response_due, g.first_response_on_time_rate) == (6, 0.5)


def test_rollups_give_the_same_figures(session_factory: sessionmaker[Session], built: World) -> None:
    with session_factory() as s:
        grid = s.get(Grid, built.grid)
        assert grid
        [r] = reports(s, [grid_node(grid)], date(2026, 3, 1), date(2026, 3, 31))
        _check(r.metrics, G001)
        # April 1 included: e is due and late now
        [r] = reports(s, [grid_node(grid)], date(2026, 3, 1), date(2026, 4, 1))
        assert (r.metrics.response_due, r.metrics.responded_on_time) == (6, 3)


def test_grid_without_cases_is_not_ranked_and_reweighted(
    session_factory: sessionmaker[Session], built: World
) -> None:
    from gridbot.api.routers.metrics import assessment_method

    method = assessment_method()
    with session_factory() as s:
        community = s.get(Region, built.community)
        assert community
        ranked = ranking(s, region_node(community), "score", date(2026, 3, 1), date(2026, 3, 31), method)
        by_code = {r.node.code: (rank, value, r) for rank, r, value in ranked}
    rank, value, report = by_code["G002"]
    assert (rank, value) == (None, None)  # 无案件: neither first nor last
    assert by_code["G001"][0] == 1
    a = assess(report, method)
    # G002 has only 入群率 (100/250 = 0.4: 10 × (0.4 − 0.2) / 0.6 = 3.33) and activity (0 of 5):
    # 3.33 of 15 counted weights = 22.22; the note says the others were left out and reweighted
    assert a.score == pytest.approx(22.22)
    assert "首次响应及时率" in a.note and "权重按比例分配" in a.note


def test_bulletin_uses_the_same_rule(session_factory: sessionmaker[Session], built: World) -> None:
    with session_factory() as s:
        street = s.get(Region, built.street)
        assert street
        b = monthly_bulletin(s, street, "2026-03")
    row = next(r for r in b.rows if r.community == "五台山社区")
    # 五台山社区 = G001 + G002: 回复 4 of 5 due (e not yet due), on time 3 of 5
    assert (row.received, row.responded, row.response_rate) == (6, 4, 0.8)
    assert row.first_response_on_time_rate == pytest.approx(0.6)

"""The data-quality self-check shown to administrators: can the published figures be trusted?

Each check counts problem rows in a scope and says in Chinese what it means and how to fix it:
tickets without a category, tickets worked on without a first-response record, tickets without an
SLA clock, grids without a household count (入群率 unmeasurable), and rollups out of date (the
dashboard's figures differ from a live count of the last days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from gridbot.models.entities import Grid, Rating, Ticket, TicketDeadline
from gridbot.models.entities.rollup import RollupCohort, RollupDay
from gridbot.models.enums import DeadlineKind, TicketStatus
from gridbot.models.metrics import rules
from gridbot.models.metrics.period import LOCAL_TZ, Period, Scope
from gridbot.models.metrics.rules import NOT_RECEIVED

WORKED = (
    TicketStatus.ACCEPTED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.SUSPENDED,
    TicketStatus.RESOLVED,
    TicketStatus.CLOSED,
)
COMPARED = ("received", "responded", "resolved", "rated")


@dataclass(frozen=True)
class Check:
    """One self-check: how many problem rows, and what to do about them."""

    key: str
    label: str
    problems: int
    detail: str
    fix: str

    @property
    def ok(self) -> bool:
        """No problem found."""
        return self.problems == 0


def _count(session: Session, stmt: object) -> int:
    return int(session.scalar(stmt) or 0)  # type: ignore[call-overload]


def quality_checks(
    session: Session,
    scope: Scope,
    rollup_level: str,
    rollup_node_id: int,
    now: datetime,
    recent_days: int = 7,
) -> list[Check]:
    """The checks for a scope; the rollup comparison covers the last `recent_days` whole local days."""
    in_scope = scope.contains(Ticket.grid_id)
    uncategorised = _count(
        session,
        select(func.count(Ticket.id)).where(
            in_scope,
            Ticket.status != TicketStatus.MERGED,
            or_(Ticket.category == "", Ticket.category_label == ""),
        ),
    )
    no_first_response = _count(
        session,
        select(func.count(Ticket.id)).where(
            in_scope, Ticket.status.in_(WORKED), Ticket.first_response_at.is_(None)
        ),
    )
    no_clock = _count(
        session,
        select(func.count(Ticket.id)).where(
            in_scope,
            Ticket.status.not_in(NOT_RECEIVED),
            not_(
                exists().where(
                    TicketDeadline.ticket_id == Ticket.id,
                    TicketDeadline.kind == DeadlineKind.FIRST_RESPONSE,
                )
            ),
        ),
    )
    no_households = _count(
        session, select(func.count(Grid.id)).where(scope.grid_condition(), Grid.households <= 0)
    )
    today = now.astimezone(LOCAL_TZ).date()
    last = today - timedelta(days=1)
    first = last - timedelta(days=recent_days - 1)
    stale, stale_detail = _rollup_gap(session, scope, rollup_level, rollup_node_id, first, last)
    return [
        Check(
            "uncategorised",
            "缺少类别的工单",
            uncategorised,
            f"{uncategorised} 件工单没有类别，类别分布和热点问题会漏掉它们",
            "网格员用「改类 #编号 类别」补上类别",
        ),
        Check(
            "no_first_response",
            "已处理但无首次响应记录的工单",
            no_first_response,
            f"{no_first_response} 件工单已受理或办结，却没有首次响应时间，响应类指标会少算",
            "检查导入或接口写入的工单是否带首次响应时间",
        ),
        Check(
            "no_sla_clock",
            "没有时限的工单",
            no_clock,
            f"{no_clock} 件受理的工单没有首次响应时限，按已到期计入响应类指标",
            "检查 SLA 时限文件（GRIDBOT_SLA__POLICY_FILE）是否覆盖了这些类别",
        ),
        Check(
            "no_households",
            "没有户数的网格",
            no_households,
            f"{no_households} 个网格户数为 0，入群率和群活跃度无法计算（不计分）",
            "在组织架构导入文件中补上网格户数",
        ),
        Check(
            "rollups_stale", "统计汇总过期", stale, stale_detail, "运行 gridbot rollup refresh --from <日期>"
        ),
    ]


def _live_counts(session: Session, scope: Scope, period: Period) -> dict[str, int]:
    """The compared counts straight from the tickets and ratings, by the same rules as the rollups.

    Only these four: the full per-grid report (models.metrics.queries.scope_metrics) took ~10 s
    for a city's 12,990 grids, most of it on messages and members this check does not compare.
    """
    got = rules.received(period)
    count = rules.count_where
    received, responded, resolved = session.execute(
        select(
            count(got),
            count(and_(got, rules.responded(period.end))),
            count(and_(got, rules.resolved(period.end))),
        ).where(period.contains(Ticket.created_at), scope.contains(Ticket.grid_id))
    ).one()
    rated = session.scalar(
        select(func.count(Rating.id))
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .where(period.contains(Rating.created_at), scope.contains(Ticket.grid_id))
    )
    return {
        "received": int(received or 0),
        "responded": int(responded or 0),
        "resolved": int(resolved or 0),
        "rated": int(rated or 0),
    }


def _rollup_gap(
    session: Session, scope: Scope, level: str, node_id: int, first: date, last: date
) -> tuple[int, str]:
    """How many of the compared counts differ between the rollups and a live count of [first, last]."""
    latest = session.scalar(
        select(func.max(RollupDay.day)).where(RollupDay.level == level, RollupDay.node_id == node_id)
    )
    live = _live_counts(session, scope, Period.local_days(first, last))
    c = RollupCohort
    cohort = session.execute(
        select(func.sum(c.received), func.sum(c.responded), func.sum(c.resolved)).where(
            c.level == level, c.node_id == node_id, c.created_day.between(first, last), c.done_day <= last
        )
    ).one()
    rated = session.scalar(
        select(func.sum(RollupDay.rated)).where(
            RollupDay.level == level, RollupDay.node_id == node_id, RollupDay.day.between(first, last)
        )
    )
    rolled = {
        "received": int(cohort[0] or 0),
        "responded": int(cohort[1] or 0),
        "resolved": int(cohort[2] or 0),
        "rated": int(rated or 0),
    }
    differ = [k for k in COMPARED if rolled[k] != live[k]]
    if differ:
        names = {"received": "受理量", "responded": "回复数", "resolved": "办结数", "rated": "评价数"}
        text = "、".join(f"{names[k]} 汇总 {rolled[k]} / 实际 {live[k]}" for k in differ)
        return len(differ), f"{first} 至 {last} 的汇总与实际不符：{text}"
    if latest is None and live["received"]:
        return 1, "还没有任何统计汇总"
    return 0, f"{first} 至 {last} 的汇总与实际一致（最近汇总日 {latest or '无'}）"

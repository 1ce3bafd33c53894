"""Residents' participation points and the monthly thank-you list (GRIDBOT_PARTICIPATION__*).

Points are derived from facts already recorded, never kept in a ledger of their own: a ticket the
resident's report opened that is not rejected, merged or still awaiting review (a later 退回 takes
the points back), a rating, a notice confirmed. Chatter earns nothing (messages are not counted),
and neither does a duplicate: a report merged into an open ticket opens no ticket of its own. The
month is the local (Asia/Shanghai) calendar month. The only thing stored is each resident's choice
of how the list shows them (masked unless they choose otherwise).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridbot.models.entities import (
    ChatGroup,
    Notice,
    NoticeTarget,
    Outbox,
    ParticipationChoice,
    Person,
    Rating,
    RoleAssignment,
    Ticket,
)
from gridbot.models.enums import OutboxKind, Role, TicketSource, TicketStatus
from gridbot.models.messaging.outbox import enqueue
from gridbot.models.metrics.period import LOCAL_TZ
from gridbot.models.settings import ParticipationSettings
from gridbot.models.wording import residents as wording

# what a resident may write after 积分, and the display it chooses
CHOICES = {"实名": "full", "匿名": "masked", "不上榜": "hidden"}
DEFAULT_DISPLAY = "masked"
_NO_POINTS = frozenset({TicketStatus.REJECTED, TicketStatus.MERGED})


@dataclass(frozen=True)
class Month:
    """A local calendar month as a UTC half-open interval."""

    first: date
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """2026年3月."""
        return f"{self.first.year}年{self.first.month}月"

    @property
    def key(self) -> str:
        """2026-03."""
        return f"{self.first:%Y-%m}"


def month_of(day: date) -> Month:
    """The local month holding `day`."""
    first = day.replace(day=1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    start, end = (datetime.combine(d, time(), LOCAL_TZ).astimezone(UTC) for d in (first, following))
    return Month(first, start, end)


def this_month(now: datetime) -> Month:
    """The local month `now` falls in."""
    return month_of(now.astimezone(LOCAL_TZ).date())


def previous_month(now: datetime) -> Month:
    """The local month before the one `now` falls in."""
    first = now.astimezone(LOCAL_TZ).date().replace(day=1)
    return month_of(date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1))


@dataclass(frozen=True)
class Points:
    """One resident's points in one grid and month, by source."""

    reports: int
    ratings: int
    acks: int
    total: int


def _counts(
    session: Session, grid_id: int, month: Month, person_id: int | None = None
) -> tuple[Counter[int], Counter[int], Counter[int]]:
    """(reports, ratings, acks) per person; one person's only when `person_id` is given."""
    reports = (
        select(Ticket.reporter_id, func.count())
        .where(
            Ticket.grid_id == grid_id,
            Ticket.source == TicketSource.RESIDENT,
            Ticket.reporter_id.is_not(None),
            Ticket.status.not_in(list(_NO_POINTS)),
            Ticket.needs_review.is_(False),
            Ticket.created_at >= month.start,
            Ticket.created_at < month.end,
        )
        .group_by(Ticket.reporter_id)
    )
    ratings = (
        select(Rating.person_id, func.count())
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .where(
            Ticket.grid_id == grid_id,
            Rating.person_id.is_not(None),
            Rating.created_at >= month.start,
            Rating.created_at < month.end,
        )
        .group_by(Rating.person_id)
    )
    acks = (
        select(NoticeTarget.person_id, func.count())
        .join(Notice, Notice.id == NoticeTarget.notice_id)
        .where(
            Notice.grid_id == grid_id, NoticeTarget.acked_at >= month.start, NoticeTarget.acked_at < month.end
        )
        .group_by(NoticeTarget.person_id)
    )
    if person_id is not None:
        reports = reports.where(Ticket.reporter_id == person_id)
        ratings = ratings.where(Rating.person_id == person_id)
        acks = acks.where(NoticeTarget.person_id == person_id)
    found: list[Counter[int]] = []
    for query in (reports, ratings, acks):
        found.append(Counter({int(pid): int(n) for pid, n in session.execute(query) if pid is not None}))
    return found[0], found[1], found[2]


def _points(rules: ParticipationSettings, reports: int, ratings: int, acks: int) -> Points:
    total = reports * rules.report_points + ratings * rules.rating_points + acks * rules.ack_points
    return Points(reports, ratings, acks, total)


def points_of(
    session: Session, person_id: int, grid_id: int, month: Month, rules: ParticipationSettings
) -> Points:
    """One resident's points in a grid and month."""
    reports, ratings, acks = _counts(session, grid_id, month, person_id)
    return _points(rules, reports[person_id], ratings[person_id], acks[person_id])


def display_of(session: Session, person_id: int) -> str:
    """How the thank-you list shows this resident: full, masked (the default) or hidden."""
    return session.scalar(
        select(ParticipationChoice.display).where(ParticipationChoice.person_id == person_id)
    ) or (DEFAULT_DISPLAY)


def choose(session: Session, person_id: int, display: str, now: datetime) -> None:
    """Record a resident's choice of display (full, masked or hidden)."""
    if display not in CHOICES.values():
        raise ValueError(f"unknown display {display!r}")
    row = session.get(ParticipationChoice, person_id)
    if row is None:
        session.add(ParticipationChoice(person_id=person_id, display=display, updated_at=now))
    else:
        row.display, row.updated_at = display, now
    session.flush()


def starred(name: str) -> str:
    """张阿姨 → 张**: the first character, then at most two stars."""
    name = name.strip()
    return name[0] + "*" * min(max(len(name) - 1, 1), 2) if name else "*"


@dataclass(frozen=True)
class Entry:
    """One line of the thank-you list."""

    person_id: int
    name: str  # as shown: masked unless the resident chose 实名
    points: Points


def board(session: Session, grid_id: int, month: Month, rules: ParticipationSettings) -> list[Entry]:
    """The grid's residents with points in `month`, most first (ties: who joined first), top N."""
    reports, ratings, acks = _counts(session, grid_id, month)
    residents = set(
        session.scalars(
            select(RoleAssignment.person_id).where(
                RoleAssignment.grid_id == grid_id, RoleAssignment.role == Role.RESIDENT, RoleAssignment.active
            )
        )
    )
    scored = {
        pid: _points(rules, reports[pid], ratings[pid], acks[pid])
        for pid in (set(reports) | set(ratings) | set(acks)) & residents
    }
    scored = {pid: p for pid, p in scored.items() if p.total > 0}
    if not scored:
        return []
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(scored)))}
    choices = {
        row.person_id: row.display
        for row in session.scalars(
            select(ParticipationChoice).where(ParticipationChoice.person_id.in_(scored))
        )
    }
    entries = []
    for pid in sorted(scored, key=lambda p: (-scored[p].total, p)):
        display = choices.get(pid, DEFAULT_DISPLAY)
        if display == "hidden":
            continue
        name = people[pid].name  # masked of personal data when written
        entries.append(Entry(pid, name if display == "full" else starred(name), scored[pid]))
    return entries[: rules.top_n]


def post_thanks(session: Session, now: datetime, rules: ParticipationSettings) -> int:
    """Queue last month's thank-you list in every residents' group with one; the number queued now.

    Runs any time; it posts only from `post_hour` on the 1st to the end of `post_window_days`, and
    once per group and month (the outbox's dedupe key), however often it is called.
    """
    local = now.astimezone(LOCAL_TZ)
    if (
        not rules.enabled
        or local.day > rules.post_window_days
        or (local.day == 1 and local.hour < rules.post_hour)
    ):
        return 0
    month = previous_month(now)
    rule = wording.points_rule(rules.report_points, rules.rating_points, rules.ack_points)
    rooms = session.execute(
        select(ChatGroup.grid_id, ChatGroup.room_id)
        .where(ChatGroup.grid_id.is_not(None), ChatGroup.staff_room.is_(False))
        .order_by(ChatGroup.grid_id, ChatGroup.id)
    ).all()
    boards: dict[int, list[Entry]] = {}
    queued = 0
    for grid_id, room_id in rooms:
        if grid_id is None:  # excluded by the query; for the type checker
            continue
        if grid_id not in boards:
            boards[grid_id] = board(session, grid_id, month, rules)
        if not boards[grid_id]:
            continue
        key = f"thanks:{month.key}:{room_id}"
        if session.scalar(select(Outbox.id).where(Outbox.dedupe_key == key)) is not None:
            continue  # posted already (by this instance or another)
        enqueue(
            session,
            dedupe_key=key,
            kind=OutboxKind.NOTICE,
            text=wording.thanks_list(month.label, [(e.name, e.points.total) for e in boards[grid_id]], rule),
            now=now,
            room_id=room_id,
        )
        queued += 1
    return queued

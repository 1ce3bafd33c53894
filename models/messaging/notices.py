"""Notices with acknowledgement: post, record 收到, report 知晓率, remind the rest once.

The audience of a notice is fixed when it is posted: the grid's active residents the bot knows
(role `resident`, with a platform id). A member who confirms without being in it (joined later) is
added as a late target, so 知晓率 never exceeds 100 %. Households are not modelled in gridbot yet:
the rate is per member.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridbot.models.entities import ChatGroup, Grid, Person, RoleAssignment
from gridbot.models.entities.notice import Notice, NoticeTarget
from gridbot.models.enums import OutboxKind, Role
from gridbot.models.messaging.outbox import enqueue

ACK_HINT = "请回复「收到」确认"


def marker(notice_id: int) -> str:
    """How a notice names itself in the group (quote-replies are matched on it)."""
    return f"通知 #{notice_id}"


def _audience(session: Session, grid_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Person.id)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .where(
                RoleAssignment.grid_id == grid_id,
                RoleAssignment.role == Role.RESIDENT,
                RoleAssignment.active,
                Person.platform_id.is_not(None),
            )
            .distinct()
            .order_by(Person.id)
        )
    )


def post(
    session: Session,
    *,
    grid_id: int,
    room_id: str,
    author_id: int | None,
    text: str,
    now: datetime,
    remind_after: timedelta | None,
    batch: str | None = None,
) -> Notice:
    """Post a notice in one group: the row, its audience, and the group message in the outbox."""
    notice = Notice(
        grid_id=grid_id,
        room_id=room_id,
        author_id=author_id,
        text=text,
        batch=batch,
        created_at=now,
        remind_at=now + remind_after if remind_after else None,
    )
    session.add(notice)
    session.flush()
    for person_id in _audience(session, grid_id):
        session.add(NoticeTarget(notice_id=notice.id, person_id=person_id))
    enqueue(
        session,
        dedupe_key=f"notice:{notice.id}",
        kind=OutboxKind.NOTICE,
        text=f"【通知】{text}\n（{marker(notice.id)}，{ACK_HINT}）",
        now=now,
        room_id=room_id,
        mention_ids=(),
    )
    session.flush()
    return notice


def post_in_region(
    session: Session,
    *,
    region_path: str,
    author_id: int | None,
    text: str,
    now: datetime,
    remind_after: timedelta | None,
    batch: str,
) -> list[Notice]:
    """Post the notice in every bound group of the grids under a region (paced by the outbox)."""
    rooms = session.execute(
        select(Grid.id, ChatGroup.room_id)
        .join(ChatGroup, ChatGroup.grid_id == Grid.id)
        .where(Grid.region_path.startswith(region_path, autoescape=True))
        .order_by(Grid.id, ChatGroup.id)
    ).all()
    return [
        post(
            session,
            grid_id=grid_id,
            room_id=room,
            author_id=author_id,
            text=text,
            now=now,
            remind_after=remind_after,
            batch=batch,
        )
        for grid_id, room in rooms
    ]


def acknowledge(
    session: Session,
    *,
    person_id: int,
    grid_id: int,
    now: datetime,
    window: timedelta,
    message_id: int | None = None,
    notice_id: int | None = None,
) -> Notice | None:
    """Record a member's 收到: for the quoted notice, else their newest unconfirmed one in the grid.

    None when there is nothing to confirm (no recent notice, or all already confirmed).
    """
    if notice_id is not None:
        notice = session.get(Notice, notice_id)
        if notice is None or notice.grid_id != grid_id:
            return None
    else:
        notice = session.scalar(
            select(Notice)
            .join(NoticeTarget, NoticeTarget.notice_id == Notice.id)
            .where(
                Notice.grid_id == grid_id,
                Notice.created_at >= now - window,
                Notice.created_at <= now,
                NoticeTarget.person_id == person_id,
                NoticeTarget.acked_at.is_(None),
            )
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(1)
        )
        if notice is None:
            return None
    target = session.scalar(
        select(NoticeTarget).where(NoticeTarget.notice_id == notice.id, NoticeTarget.person_id == person_id)
    )
    if target is None:
        target = NoticeTarget(notice_id=notice.id, person_id=person_id, late=True)
        session.add(target)
    if target.acked_at is not None:
        return notice
    target.acked_at = now
    target.ack_message_id = message_id
    target.via = "quote" if notice_id is not None else "reply"
    session.flush()
    return notice


@dataclass(frozen=True)
class NoticeStatus:
    """知晓率 of one notice and who has not confirmed yet."""

    notice_id: int
    grid_id: int
    text: str
    created_at: datetime
    total: int
    acked: int
    pending: list[tuple[int, str, str | None]]  # (person id, name, platform id)
    reminded_at: datetime | None

    @property
    def rate(self) -> float | None:
        """acked / total (None without an audience)."""
        return self.acked / self.total if self.total else None


def status(session: Session, notice_id: int) -> NoticeStatus | None:
    """The notice's 知晓率 and the members still to confirm."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        return None
    rows = session.execute(
        select(NoticeTarget.acked_at, Person.id, Person.name, Person.platform_id)
        .join(Person, Person.id == NoticeTarget.person_id)
        .where(NoticeTarget.notice_id == notice_id)
        .order_by(Person.id)
    ).all()
    pending = [(pid, name, platform) for acked, pid, name, platform in rows if acked is None]
    return NoticeStatus(
        notice.id,
        notice.grid_id,
        notice.text,
        notice.created_at,
        len(rows),
        len(rows) - len(pending),
        pending,
        notice.reminded_at,
    )


def remind_due(session: Session, now: datetime, limit: int = 200) -> list[int]:
    """Send the one reminder of each notice past its `remind_at`, @-mentioning who has not confirmed."""
    due = list(
        session.scalars(
            select(Notice)
            .where(Notice.remind_at <= now, Notice.reminded_at.is_(None))
            .order_by(Notice.remind_at, Notice.id)
            .limit(limit)
        )
    )
    for notice in due:
        notice.reminded_at = now
        st = status(session, notice.id)
        if st is None or not st.pending:
            continue
        enqueue(
            session,
            dedupe_key=f"notice-reminder:{notice.id}",
            kind=OutboxKind.REMINDER,
            text=f"【提醒】以上居民请查看{marker(notice.id)}：{notice.text[:60]}，{ACK_HINT}",
            now=now,
            room_id=notice.room_id,
            mention_ids=[p for _, _, p in st.pending if p],
        )
    session.flush()
    return [n.id for n in due]


@dataclass(frozen=True)
class AckRate:
    """知晓率 of a grid over a period: confirmations over audience, summed over its notices."""

    grid_id: int
    notices: int
    targets: int
    acked: int

    @property
    def rate(self) -> float | None:
        """acked / targets (None when no notice was posted)."""
        return self.acked / self.targets if self.targets else None


def ack_rates(
    session: Session, grid_ids: Sequence[int] | Iterable[int], start: datetime, end: datetime
) -> dict[int, AckRate]:
    """知晓率 per grid for notices posted in [start, end): the indicator the 考核办法 can weigh.

    Counts confirmations whenever they came (a notice posted on the 30th confirmed on the 2nd counts
    for the notice's period). Grids without notices map to AckRate(…, 0, 0, 0) with rate None.
    """
    ids = list(grid_ids)
    out = {g: AckRate(g, 0, 0, 0) for g in ids}
    rows = session.execute(
        select(
            Notice.grid_id,
            func.count(func.distinct(Notice.id)),
            func.count(NoticeTarget.id),
            func.count(NoticeTarget.acked_at),
        )
        .outerjoin(NoticeTarget, NoticeTarget.notice_id == Notice.id)
        .where(Notice.grid_id.in_(ids), Notice.created_at >= start, Notice.created_at < end)
        .group_by(Notice.grid_id)
    ).all()
    for grid_id, notices, targets, acked in rows:
        out[grid_id] = AckRate(grid_id, int(notices), int(targets), int(acked))
    return out

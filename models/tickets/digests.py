"""Reminder digests: one message per person per sweep, its text bounded at any volume."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from gridbot.models.enums import DeadlineKind, OutboxKind
from gridbot.models.wording import staff as wording

MAX_LINES = 20  # a digest lists this many items a section, then "等共N项"
SECTIONS = tuple(wording.DIGEST_HEADS)


@dataclass(frozen=True)
class DigestItem:
    """One line of a digest: a ticket's deadline at a ladder level."""

    ticket_id: int
    category: str
    kind: DeadlineKind
    level: int
    left: timedelta  # time to the due instant; negative once overdue


def section(level: int, left: timedelta) -> str:
    """Which part of a digest an item belongs to (the same rule the sweep's SQL applies)."""
    return "late" if level >= 2 else "soon" if left > timedelta() else "own_late"


@dataclass
class Digest:
    """One person's digest for one sweep, built from each batch's summary (see `add`)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    tickets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    lines: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in SECTIONS})
    rooms: set[str | None] = field(default_factory=set)
    ticket_ids: set[int] = field(default_factory=set)  # up to two: is the digest about one ticket?

    def add(self, sec: str, items: int, tickets: int, first: list[DigestItem]) -> None:
        """Add one batch's items of a section: how many, of how many tickets, the first lines in order.

        A deadline is told at one level per sweep and lives in one batch, so counts add up; a ticket
        whose deadlines fall into different batches of one sweep is counted once per batch.
        """
        self.counts[sec] += items
        self.tickets[sec] += tickets
        for it in first[: MAX_LINES - len(self.lines[sec])]:
            when = f"剩余{fmt(it.left)}" if it.left > timedelta() else f"超时{fmt(-it.left)}"
            self.lines[sec].append(wording.digest_line(it.ticket_id, it.category, it.kind, it.level, when))

    def add_rooms(self, rooms: set[str | None]) -> None:
        """Rooms this batch's items were addressed to (None: not in a residents' group)."""
        self.rooms |= rooms

    def add_tickets(self, ids: set[int]) -> None:
        """Two distinct ticket ids of this batch's items at most (one when it was about one ticket)."""
        for i in ids:
            if len(self.ticket_ids) < 2:
                self.ticket_ids.add(i)

    def render(self) -> tuple[str, OutboxKind, str | None]:
        """The Chinese text, the outbox kind, and the room (None when the items span rooms or none)."""
        parts = []
        for sec, head in wording.DIGEST_HEADS.items():
            if self.counts[sec]:
                more = f"…等共{self.counts[sec]}项" if self.counts[sec] > len(self.lines[sec]) else ""
                parts.append(head.format(n=self.tickets[sec]) + "；".join(self.lines[sec]) + more)
        kind = OutboxKind.ESCALATION if self.counts["late"] else OutboxKind.REMINDER
        room = next(iter(self.rooms)) if len(self.rooms) == 1 else None
        return "\n".join(parts), kind, room


def fmt(span: timedelta) -> str:
    """A span as 3天2小时 / 1小时5分钟 / 7分钟."""
    minutes = max(int(span.total_seconds() // 60), 1)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分钟" if mins else f"{hours}小时"
    return f"{mins}分钟"

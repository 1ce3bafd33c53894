"""Tickets, their reporters, audit trail, SLA deadlines, reminders and ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from gridbot.models.entities.base import Base, str_enum, utcnow
from gridbot.models.enums import DeadlineKind, Priority, RatingScore, TicketKind, TicketStatus

SOURCE_RESIDENT = "resident"
SOURCE_PATROL = "patrol"


class ReminderLog(Base):
    """Proof that a reminder or escalation level fired: UNIQUE so nothing fires twice.

    No foreign keys: the sweeper, its only writer, copies `ticket_id` from a deadline row (itself
    keyed to the ticket) and `recipient_id` from the ticket's assignee, in the same transaction; a
    per-row key check there cost PostgreSQL as much as the insert itself. Tickets are never deleted.
    """

    __tablename__ = "reminder_log"

    # the key is what it records, UNIQUE by being the primary key: one index entry a logged level
    ticket_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    deadline_kind: Mapped[DeadlineKind] = mapped_column(str_enum(DeadlineKind), primary_key=True)
    cycle: Mapped[int] = mapped_column(primary_key=True, default=0)
    level: Mapped[int] = mapped_column(primary_key=True)
    # lower levels this row stands for, passed over untold (the sweeper was down while they fell due)
    skipped: Mapped[int] = mapped_column(default=0, server_default="0")
    recipient_id: Mapped[int | None]  # a person id
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ticket(Base):
    """An incident or request; its id is the short number residents type (`#42`)."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_grid_status", "grid_id", "status"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_grid_created", "grid_id", "created_at"),
        # half of each page free: updates that touch no indexed column (version, timestamps) stay
        # on the page (HOT) and write no index entries (migration 0023)
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TicketKind] = mapped_column(str_enum(TicketKind))
    category: Mapped[str] = mapped_column(String(32))
    category_label: Mapped[str] = mapped_column(String(32), default="")  # as shown when filed
    priority: Mapped[Priority] = mapped_column(str_enum(Priority), default=Priority.NORMAL)
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus), default=TicketStatus.NEW)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", use_alter=True))
    text: Mapped[str] = mapped_column(Text, default="")
    text_masked: Mapped[str] = mapped_column(Text, default="")
    needs_review: Mapped[bool] = mapped_column(default=False)
    confidence: Mapped[float | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    cycle: Mapped[int] = mapped_column(default=0)  # bumped by each 重办 (reopen)
    # The highest ladder level told for any of its deadlines (0: none), read with the ticket: one
    # probe of the reminder log's primary key. Read-only; the sweep's log row is the one record of
    # a level told (migration 0026: no update of every open ticket after an outage).
    escalation_level: Mapped[int] = column_property(
        select(func.coalesce(func.max(ReminderLog.level), 0))
        .where(ReminderLog.ticket_id == id)
        .correlate_except(ReminderLog)
        .scalar_subquery()
    )
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # how the problem came in: "resident" (a resident's report) or "patrol" (found by staff on patrol: 主动发现)
    source: Mapped[str] = mapped_column(String(16), default=SOURCE_RESIDENT, server_default=SOURCE_RESIDENT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    feedback_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    rejected_at: Mapped[datetime | None]
    reopened_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    reporters: Mapped[list[TicketReporter]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketReporter.id"
    )
    deadlines: Mapped[list[TicketDeadline]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketDeadline.id"
    )

    @property
    def number(self) -> str:
        """The display number, e.g. `#42`."""
        return f"#{self.id}"


class TicketReporter(Base):
    """A resident who reported this ticket (several after duplicates are merged)."""

    __tablename__ = "ticket_reporters"
    __table_args__ = (UniqueConstraint("ticket_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="reporters")


class TicketEvent(Base):
    """Append-only audit trail: who did what to a ticket, when, from which status to which."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_at", "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32), index=True)
    from_status: Mapped[TicketStatus | None] = mapped_column(str_enum(TicketStatus))
    to_status: Mapped[TicketStatus | None] = mapped_column(str_enum(TicketStatus))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# ladder levels 1-4, in order; a clock runs (its levels may fire) while it is neither met, paused nor stopped
LEVEL_COLUMNS = ("warn_at", "due_at", "escalate1_at", "escalate2_at")
RUNNING = "met_at IS NULL AND paused_at IS NULL AND stopped_at IS NULL"


class TicketDeadline(Base):
    """One SLA clock of a ticket in one cycle; the sweeper fires its levels at their times."""

    __tablename__ = "ticket_deadlines"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", "cycle"),
        # one index a ladder level, of running clocks only: the sweep finds the levels that fell due
        # since its last pass by range scans of these, and never writes a deadline row to do so
        *(
            Index(
                f"ix_ticket_deadlines_run_{col}",
                col,
                postgresql_where=sql_text(RUNNING),
                sqlite_where=sql_text(RUNNING),
            )
            for col in LEVEL_COLUMNS
        ),
        Index("ix_ticket_deadlines_kind_due", "kind", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[DeadlineKind] = mapped_column(str_enum(DeadlineKind))
    cycle: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    warn_at: Mapped[datetime]
    escalate1_at: Mapped[datetime]  # due + 50 % of the allowance
    escalate2_at: Mapped[datetime]  # due + 100 % of the allowance
    met_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]  # no longer written (kept for old rows): see telemetry
    paused_at: Mapped[datetime | None]
    # the clock will never fire again: ticket closed, merged or rejected, cycle superseded, rule dropped
    stopped_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship(back_populates="deadlines")


class SweepWatermark(Base):
    """The one row that says up to when the deadline sweep has told every due level.

    A sweep reads the levels whose instants lie in [swept_to, now] and, when it finished with no
    clock moved meanwhile (`version` unchanged), moves `swept_to` to its `now`. A lifecycle change
    that sets an instant before `swept_to`, or at or before the `sweeping_to` of a sweep under way,
    lowers `swept_to` and bumps `version` in its own transaction (`deadlines.rearm`). Locking this row
    also serialises the sweep's batches across instances. `full_at`: the last full pass (no lower
    bound), run when `swept_to` is unknown and once a day for safety.
    """

    __tablename__ = "sweep_watermark"

    id: Mapped[int] = mapped_column(primary_key=True)
    swept_to: Mapped[datetime | None]
    sweeping_to: Mapped[datetime | None]
    full_at: Mapped[datetime | None]
    # the sweep under way that took over last: an earlier one still running stops at its next batch
    holder: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(default=0)


class ReminderQuiet(Base):
    """When a person last got a reminder digest: later non-urgent ones wait out the quiet period."""

    __tablename__ = "reminder_quiet"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    last_at: Mapped[datetime]


class Rating(Base):
    """A resident's verdict on a resolved ticket, once per cycle."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("ticket_id", "cycle"), Index("ix_ratings_created", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    cycle: Mapped[int] = mapped_column(default=0)
    score: Mapped[RatingScore] = mapped_column(str_enum(RatingScore))
    comment: Mapped[str | None] = mapped_column(Text)
    # the 回访 question 「问题解决了吗」, asked with the rating and kept apart from it (None: not answered)
    solved: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

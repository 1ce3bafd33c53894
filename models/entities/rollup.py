"""Daily rollups of the metrics per grid and per region, kept current by models.rollups."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from gridbot.models.entities.base import Base

# the counts of models.metrics.queries.ticket_counts, stored as per-day increments
COHORT_COUNTS = (
    "received",
    "responded",
    "responded_on_time",
    "resolved",
    "resolved_on_time",
    "resolved_once",
    "reopened",
    "escalated",
    "rejected",
    "merged",
    "response_due",
    "accepted_on_time",
    "patrol",
    "urged",
)
DAY_FLOWS = (
    "resident_messages",
    "worker_messages",
    "active_residents",
    "rated",
    "satisfied",
    "solved_answered",
    "solved",
)
DAY_STOCKS = ("overdue", "members", "households")


class RollupDay(Base):
    """One local day of one node (a grid, or a region summing its grids): flows of the day, stocks at its end.

    `level` is "grid" (node_id = grid id) or a RegionLevel value (node_id = region id). Flows
    (messages, daily distinct active residents, ratings) are counted on the day they happened;
    stocks (overdue tickets, group members, households) are taken at the end of the day.
    """

    __tablename__ = "rollup_days"

    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    node_id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    resident_messages: Mapped[int] = mapped_column(default=0)
    worker_messages: Mapped[int] = mapped_column(default=0)
    active_residents: Mapped[int] = mapped_column(default=0)
    rated: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)
    solved_answered: Mapped[int] = mapped_column(default=0, server_default="0")
    solved: Mapped[int] = mapped_column(default=0, server_default="0")
    overdue: Mapped[int] = mapped_column(default=0)
    members: Mapped[int] = mapped_column(default=0)
    households: Mapped[int] = mapped_column(default=0)


class RollupCohort(Base):
    """Tickets created on `created_day` that became countable by a rule on `done_day` (increments).

    A period [a, b] of whole local days sums the rows with a <= created_day <= b and done_day <= b:
    exactly "created in the period, milestone recorded before the period end".
    """

    __tablename__ = "rollup_cohorts"

    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    node_id: Mapped[int] = mapped_column(primary_key=True)
    created_day: Mapped[date] = mapped_column(Date, primary_key=True)
    done_day: Mapped[date] = mapped_column(Date, primary_key=True)
    received: Mapped[int] = mapped_column(default=0)
    responded: Mapped[int] = mapped_column(default=0)
    responded_on_time: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    resolved_on_time: Mapped[int] = mapped_column(default=0)
    resolved_once: Mapped[int] = mapped_column(default=0)
    reopened: Mapped[int] = mapped_column(default=0)
    escalated: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    merged: Mapped[int] = mapped_column(default=0)
    response_due: Mapped[int] = mapped_column(default=0, server_default="0")
    accepted_on_time: Mapped[int] = mapped_column(default=0, server_default="0")
    patrol: Mapped[int] = mapped_column(default=0, server_default="0")
    urged: Mapped[int] = mapped_column(default=0, server_default="0")


class RollupGeneration(Base):
    """A counter bumped by database triggers whenever rollup rows change: the key of cached results.

    Triggers (migration 0015) rather than the writers bump it, so every writer — the periodic
    refresh, a backfill, a bulk load — invalidates what the API cached from the rollups.
    """

    __tablename__ = "rollup_generation"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)

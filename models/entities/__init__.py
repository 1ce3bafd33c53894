"""Typed SQLAlchemy 2.0 entities of the domain."""

from models.entities.auth import ApiToken
from models.entities.base import Base, UTCDateTime, utcnow
from models.entities.bot_status import BotState, BotStatus
from models.entities.channel import Handoff, IntakeCursor
from models.entities.message import Message, Outbox
from models.entities.region import (
    ChatGroup,
    Grid,
    MemberEvent,
    MemberSnapshot,
    Person,
    Region,
    RoleAssignment,
)
from models.entities.rollup import RollupCohort, RollupDay
from models.entities.ticket import Rating, ReminderLog, Ticket, TicketDeadline, TicketEvent, TicketReporter

__all__ = [
    "ApiToken",
    "Base",
    "BotState",
    "BotStatus",
    "ChatGroup",
    "Grid",
    "Handoff",
    "IntakeCursor",
    "MemberEvent",
    "MemberSnapshot",
    "Message",
    "Outbox",
    "Person",
    "Rating",
    "Region",
    "ReminderLog",
    "RollupCohort",
    "RollupDay",
    "RoleAssignment",
    "Ticket",
    "TicketDeadline",
    "TicketEvent",
    "TicketReporter",
    "UTCDateTime",
    "utcnow",
]

"""Typed SQLAlchemy 2.0 entities of the domain."""

from gridbot.models.entities.attachment import Attachment
from gridbot.models.entities.auth import ApiToken, WebSession
from gridbot.models.entities.base import Base, UTCDateTime, utcnow
from gridbot.models.entities.bot_status import BotState, BotStatus
from gridbot.models.entities.channel import Handoff, IntakeCursor
from gridbot.models.entities.directory_version import DirectoryVersion
from gridbot.models.entities.duplicate_index import TicketDupFeatures, TicketDupKey
from gridbot.models.entities.exchange import ExternalLink, WebhookDelivery, WebhookEvent
from gridbot.models.entities.knowledge import KnowledgeAnswer, KnowledgeEntry
from gridbot.models.entities.message import Message, Outbox
from gridbot.models.entities.notice import Notice, NoticeTarget
from gridbot.models.entities.participation import ParticipationChoice
from gridbot.models.entities.region import (
    BindCode,
    ChatGroup,
    Grid,
    MemberEvent,
    MemberSnapshot,
    Person,
    Region,
    RoleAssignment,
)
from gridbot.models.entities.rollup import RollupCohort, RollupDay, RollupGeneration
from gridbot.models.entities.ticket import (
    Rating,
    ReminderLog,
    ReminderQuiet,
    SweepWatermark,
    Ticket,
    TicketDeadline,
    TicketEvent,
    TicketReporter,
)

__all__ = [
    "ApiToken",
    "Attachment",
    "Base",
    "BindCode",
    "BotState",
    "BotStatus",
    "ChatGroup",
    "DirectoryVersion",
    "ExternalLink",
    "Grid",
    "Handoff",
    "IntakeCursor",
    "MemberEvent",
    "MemberSnapshot",
    "KnowledgeAnswer",
    "KnowledgeEntry",
    "Message",
    "Notice",
    "NoticeTarget",
    "Outbox",
    "ParticipationChoice",
    "Person",
    "Rating",
    "Region",
    "ReminderLog",
    "ReminderQuiet",
    "SweepWatermark",
    "RollupCohort",
    "RollupDay",
    "RollupGeneration",
    "RoleAssignment",
    "Ticket",
    "TicketDeadline",
    "TicketDupFeatures",
    "TicketDupKey",
    "TicketEvent",
    "TicketReporter",
    "UTCDateTime",
    "WebhookDelivery",
    "WebhookEvent",
    "WebSession",
    "utcnow",
]

"""Closed vocabularies of the domain, stored as strings (portable across SQLite and PostgreSQL)."""

from __future__ import annotations

from enum import StrEnum


class RegionLevel(StrEnum):
    """Administrative levels above a grid."""

    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"


class GridType(StrEnum):
    """综合网格 covers households; 专属网格 covers a school, hospital, park, industrial zone."""

    COMPREHENSIVE = "comprehensive"
    DEDICATED = "dedicated"


class Role(StrEnum):
    """A person's role, held per grid (workers, residents) or per region (admins)."""

    RESIDENT = "resident"
    GRIDWORKER = "gridworker"
    PARTTIME_GRIDWORKER = "parttime_gridworker"
    GRID_LEADER = "grid_leader"
    COMMUNITY_ADMIN = "community_admin"
    STREET_ADMIN = "street_admin"
    DISTRICT_ADMIN = "district_admin"
    CITY_ADMIN = "city_admin"
    SYSTEM = "system"


WORKER_ROLES = frozenset({Role.GRIDWORKER, Role.PARTTIME_GRIDWORKER, Role.GRID_LEADER})
ADMIN_ROLES = frozenset({Role.COMMUNITY_ADMIN, Role.STREET_ADMIN, Role.DISTRICT_ADMIN, Role.CITY_ADMIN})
ADMIN_LEVEL = {
    Role.COMMUNITY_ADMIN: RegionLevel.COMMUNITY,
    Role.STREET_ADMIN: RegionLevel.STREET,
    Role.DISTRICT_ADMIN: RegionLevel.DISTRICT,
    Role.CITY_ADMIN: RegionLevel.CITY,
}


class TicketKind(StrEnum):
    """问题上报 or 服务诉求."""

    INCIDENT = "incident"
    REQUEST = "request"


class Priority(StrEnum):
    """Urgent: immediate danger to life or property."""

    URGENT = "urgent"
    NORMAL = "normal"


class TicketSource(StrEnum):
    """Where a ticket came from: a resident's report, or staff who found it on patrol (主动发现)."""

    RESIDENT = "resident"
    PATROL = "patrol"


class TicketStatus(StrEnum):
    """Lifecycle states (transitions live in models.tickets)."""

    NEW = "new"  # 待受理
    ACCEPTED = "accepted"  # 已受理
    IN_PROGRESS = "in_progress"  # 处理中
    SUSPENDED = "suspended"  # 挂起 (SLA clock paused)
    RESOLVED = "resolved"  # 已办结 (awaiting rating)
    CLOSED = "closed"  # 已评价
    MERGED = "merged"  # 已合并
    REJECTED = "rejected"  # 无效/退回


STATUS_LABELS = {
    TicketStatus.NEW: "待受理",
    TicketStatus.ACCEPTED: "已受理",
    TicketStatus.IN_PROGRESS: "处理中",
    TicketStatus.SUSPENDED: "挂起",
    TicketStatus.RESOLVED: "已办结",
    TicketStatus.CLOSED: "已评价",
    TicketStatus.MERGED: "已合并",
    TicketStatus.REJECTED: "无效/退回",
}
OPEN_STATUSES = frozenset(
    {TicketStatus.NEW, TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS, TicketStatus.SUSPENDED}
)


class DeadlineKind(StrEnum):
    """SLA clocks a ticket runs."""

    FIRST_RESPONSE = "first_response"
    FEEDBACK = "feedback"
    RESOLUTION = "resolution"


class RatingScore(StrEnum):
    """满意 / 基本满意 / 不满意."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


RATING_LABELS = {
    RatingScore.SATISFIED: "满意",
    RatingScore.BASICALLY_SATISFIED: "基本满意",
    RatingScore.UNSATISFIED: "不满意",
}


class MessageDirection(StrEnum):
    """Inbound from the group or outbound from the bot."""

    INBOUND = "in"
    OUTBOUND = "out"


class MessageType(StrEnum):
    """What the platform delivered."""

    TEXT = "text"
    IMAGE = "image"
    FILE = "file"
    VOICE = "voice"
    OTHER = "other"


class AttachmentRole(StrEnum):
    """What an attachment is evidence of, once linked to a ticket."""

    REPORT = "report"  # sent by a resident with the report (现场照片)
    AFTER = "after"  # sent or uploaded by staff when closing (处置后照片)


class AttachmentStatus(StrEnum):
    """Whether the file is kept."""

    STORED = "stored"
    REFUSED = "refused"  # over the size limit or of a type not accepted (the reason is recorded)
    MISSING = "missing"  # the platform did not deliver the file


class MessageStatus(StrEnum):
    """Processing state of an inbound message (persisted first, processed after)."""

    PENDING = "pending"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


class OutboxStatus(StrEnum):
    """Delivery state of an outbound message."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


class OutboxKind(StrEnum):
    """Why the bot is speaking."""

    REPLY = "reply"
    NOTICE = "notice"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    ALERT = "alert"  # the urgent alert to a grid's workers


# never held by a send budget: a flood of replies must not delay an urgent alert or an escalation
RESERVED_LANE: frozenset[OutboxKind] = frozenset({OutboxKind.ALERT, OutboxKind.ESCALATION})
# said to staff, not residents: never merged with residents' replies; a channel that cannot post in the
# room delivers them privately
STAFF_KINDS: frozenset[OutboxKind] = frozenset({OutboxKind.REMINDER, OutboxKind.ESCALATION, OutboxKind.ALERT})


class MemberEventKind(StrEnum):
    """Group membership changes, for 入群率 and activity."""

    JOIN = "join"
    LEAVE = "leave"

"""Response and request bodies. Texts are served as stored (masked at write time, see `api.privacy`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from gridbot.models.enums import (
    GridType,
    MessageDirection,
    Priority,
    RatingScore,
    RegionLevel,
    Role,
    TicketKind,
    TicketStatus,
)
from gridbot.nlp.pii import mask

DB_INT_MAX = 2**31 - 1  # ids are 32-bit integers in the database


def _printable(value: str) -> str:
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ValueError("control characters are not allowed")
    return value


# a note is masked as it arrives: it is stored, announced in the group and served masked
Note = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_printable), AfterValidator(mask)]


class RegionOut(BaseModel):
    """A region of the administrative tree."""

    id: int
    code: str
    name: str
    level: RegionLevel
    parent_id: int | None
    path: str


class RegionDetail(RegionOut):
    """A region with its direct children."""

    children: list[RegionOut]


class GridOut(BaseModel):
    """A grid."""

    id: int
    code: str
    name: str
    community_id: int
    grid_type: GridType
    households: int


class GridPage(BaseModel):
    """A page of grids."""

    items: list[GridOut]
    next_cursor: str | None


class GroupOut(BaseModel):
    """A WeChat group bound to a grid, with its latest member count."""

    room_id: str
    topic: str
    bound_at: datetime | None
    member_count: int | None
    member_count_at: datetime | None
    bot_state: str | None = Field(None, description="The watchdog's last view of the group's bot account.")
    bot_state_at: datetime | None = None


class WorkerOut(BaseModel):
    """A gridworker or grid leader of a grid."""

    person_id: int
    name: str
    role: Role


class GridDetail(GridOut):
    """A grid with its groups (bound room, latest member count, the bot's watchdog state) and workers."""

    groups: list[GroupOut]
    workers: list[WorkerOut]


class PersonRoleOut(BaseModel):
    """One role a person holds, in a grid or over a region; the phone number is masked."""

    person_id: int
    name: str
    phone: str | None
    role: Role
    grid_id: int | None
    region_id: int | None


class PersonPage(BaseModel):
    """A page of people and their roles."""

    items: list[PersonRoleOut]
    next_cursor: str | None


class TicketOut(BaseModel):
    """A ticket as listed; `text` is masked."""

    number: int
    kind: TicketKind
    category: str
    category_label: str
    priority: Priority
    status: TicketStatus
    grid_id: int
    grid_name: str
    assignee_id: int | None
    text: str
    needs_review: bool
    cycle: int
    escalation_level: int
    version: int
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None


class TicketPage(BaseModel):
    """A page of tickets; pass `next_cursor` as `cursor` for the next page."""

    items: list[TicketOut]
    next_cursor: str | None


class TicketEventOut(BaseModel):
    """One entry of a ticket's audit trail; notes and data are masked."""

    at: datetime
    action: str
    actor_id: int | None
    actor_name: str | None
    from_status: TicketStatus | None
    to_status: TicketStatus | None
    note: str | None
    data: dict[str, Any]


class TicketDetail(TicketOut):
    """A ticket with its audit trail and what the caller may do next."""

    assignee_name: str | None
    resolution_note: str | None
    reporters: int
    events: list[TicketEventOut]
    allowed_actions: list[str]


class MessageOut(BaseModel):
    """A group message; the text is masked."""

    id: int
    grid_id: int | None
    direction: MessageDirection
    sender_id: int | None
    sender_name: str | None
    sender_role: Role | None
    text: str
    sent_at: datetime
    kind: str | None
    category: str | None
    ticket_number: int | None


class MessagePage(BaseModel):
    """A page of messages."""

    items: list[MessageOut]
    next_cursor: str | None


class RatingOut(BaseModel):
    """A resident's rating of a resolved ticket; the comment is masked."""

    id: int
    ticket_number: int
    grid_id: int
    cycle: int
    score: RatingScore
    comment: str | None
    created_at: datetime


class RatingPage(BaseModel):
    """A page of ratings."""

    items: list[RatingOut]
    next_cursor: str | None


class Versioned(BaseModel):
    """Optimistic concurrency: pass the version you saw to refuse acting on a changed ticket."""

    expected_version: int | None = Field(None, ge=1, le=DB_INT_MAX)


class AssignIn(Versioned):
    """Assign or transfer to a gridworker of the ticket's grid."""

    person_id: int = Field(ge=1, le=DB_INT_MAX)


class ResolveIn(Versioned):
    """办结 with an optional note."""

    note: Note | None = None


class ReasonIn(Versioned):
    """重办 / 退回 with a reason."""

    reason: Note | None = None


class RejectIn(Versioned):
    """退回 with a required reason."""

    reason: Note


class UnmaskedOut(BaseModel):
    """A ticket's raw text, for the audited unmask role only."""

    number: int
    text: str


class Health(BaseModel):
    """Liveness or readiness, with the checks made."""

    status: str
    checks: dict[str, str] = Field(default_factory=dict)
    # what an operator must act on soon but that does not stop serving (holiday list, bot login)
    warnings: list[str] = Field(default_factory=list)


class DeadLetterOut(BaseModel):
    """A message the bot gave up delivering: to whom, about which ticket, and why."""

    id: int
    kind: str
    room_id: str | None
    recipient: str | None
    ticket: int | None
    attempts: int
    last_error: str | None
    created_at: datetime
    text: str


class DeadLetterPage(BaseModel):
    """A page of dead letters."""

    items: list[DeadLetterOut]
    next_cursor: str | None

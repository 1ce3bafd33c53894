"""What a handler gets for one message: the session, the sender as an Actor, the grid, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from gridbot.handlers.types import IncomingMessage
from gridbot.models.attachments.kit import AttachmentKit
from gridbot.models.entities import ChatGroup, Grid, Message, Person
from gridbot.models.enums import ADMIN_ROLES, WORKER_ROLES, OutboxKind, Role, TicketKind
from gridbot.models.errors import TicketError
from gridbot.models.messaging.outbox import enqueue
from gridbot.models.org import directory
from gridbot.models.org.directory import Actor
from gridbot.models.settings import NLPSettings
from gridbot.models.tickets.sla import SLAPolicy
from gridbot.models.wording.residents import UNBOUND
from gridbot.nlp.classifier import Classification
from gridbot.nlp.taxonomy import Taxonomy


class CommandError(TicketError):
    """A malformed or impossible command; `user_message` (Chinese) is shown in the group."""


@dataclass
class Context:
    """One inbound message being handled, inside one transaction."""

    session: Session
    msg: IncomingMessage
    message: Message
    person: Person
    actor: Actor
    group: ChatGroup
    grid: Grid | None
    now: datetime
    policy: SLAPolicy
    taxonomy: Taxonomy
    classify: Callable[[str], Classification] | None = None
    nlp: NLPSettings | None = None
    attachments: AttachmentKit | None = None  # None: photos, files and voice are not kept
    staff: Callable[[int], list[tuple[Person, Role]]] | None = None  # the conversation's copies
    replies: int = field(default=0)

    @property
    def roles(self) -> set[Role]:
        """The sender's roles over this message's grid."""
        return self.actor.roles_for(self.grid) if self.grid else set()

    @property
    def is_worker(self) -> bool:
        """Gridworker, part-time gridworker or grid leader here."""
        return bool(self.roles & WORKER_ROLES)

    @property
    def is_admin(self) -> bool:
        """An administrator whose region contains this grid (or any admin, in an unbound room)."""
        if self.grid is None:
            return any(r in ADMIN_ROLES for r, _, _ in self.actor.roles)
        return bool(self.roles & ADMIN_ROLES)

    def grid_staff(self, grid_id: int) -> list[tuple[Person, Role]]:
        """`directory.grid_staff`: from the conversation's copies when it keeps them."""
        if self.staff is not None:
            return self.staff(grid_id)
        return directory.grid_staff(self.session, grid_id)

    def require_grid(self) -> Grid:
        """The bound grid, or a user error."""
        if self.grid is None:
            raise CommandError(UNBOUND)
        return self.grid

    def reply(
        self,
        text: str,
        mention_ids: tuple[str, ...] | None = None,
        kind: OutboxKind = OutboxKind.REPLY,
        ticket_id: int | None = None,
    ) -> None:
        """Queue a reply in this room, @-mentioning the sender unless told otherwise (`ticket_id`: the
        ticket it is about, so a channel that hands replies to a gridworker can attach the ticket)."""
        self.replies += 1
        enqueue(
            self.session,
            dedupe_key=f"reply:{self.msg.platform_id}:{self.replies}",
            kind=kind,
            text=text,
            now=self.now,
            room_id=self.group.room_id,
            mention_ids=(self.msg.sender_id,) if mention_ids is None else mention_ids,
            bot_account=self.group.bot_account,
            ticket_id=ticket_id,
        )

    def tell(self, platform_id: str, text: str, kind: OutboxKind = OutboxKind.REPLY) -> None:
        """Queue a private message to one person (staff lists and alarms residents need not see)."""
        self.replies += 1
        enqueue(
            self.session,
            dedupe_key=f"reply:{self.msg.platform_id}:{self.replies}",
            kind=kind,
            text=text,
            now=self.now,
            recipient_platform_id=platform_id,
            bot_account=self.group.bot_account,
        )

    def category_of(self, label: str) -> tuple[TicketKind, str, str]:
        """Resolve a Chinese category label (or id) from a command into (kind, id, label)."""
        category = self.taxonomy.category_id(label.strip())
        if category is None:
            names = "、".join(self.taxonomy.label(c) for c in self.taxonomy.category_ids)
            raise CommandError(f"没有「{label}」这个类别。可选：{names}")
        return TicketKind(self.taxonomy.kind_of(category)), category, self.taxonomy.label(category)

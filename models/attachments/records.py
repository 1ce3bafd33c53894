"""Attachment rows: recorded with their message, linked to a ticket as evidence, listed, purged.

Services take a session and never commit. File bytes go through `store.FileStore`; a row is written
for every file a message carried, refused or not, so the message and the reason are never lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gridbot.models.attachments.store import FileStore, Taken
from gridbot.models.entities import Attachment, Message, Ticket, TicketEvent
from gridbot.models.enums import AttachmentRole, AttachmentStatus, MessageDirection, MessageType

MEDIA = frozenset({MessageType.IMAGE, MessageType.FILE, MessageType.VOICE})


def record(
    session: Session, store: FileStore, message: Message, source: str | None, now: datetime
) -> Attachment:
    """Keep the file a message carried (or record why not) beside the message."""
    taken = store.take(source) if source else Taken("application/octet-stream", 0, reason="not_delivered")
    return _add(session, taken, message.msg_type, now, message=message)


def _add(
    session: Session,
    taken: Taken,
    kind: MessageType,
    now: datetime,
    *,
    message: Message | None = None,
    grid_id: int | None = None,
    sender_id: int | None = None,
) -> Attachment:
    if taken.sha256 is not None:
        status = AttachmentStatus.STORED
    elif taken.reason == "not_delivered":
        status = AttachmentStatus.MISSING
    else:
        status = AttachmentStatus.REFUSED
    row = Attachment(
        message_id=message.id if message else None,
        grid_id=message.grid_id if message else grid_id,
        group_id=message.group_id if message else None,
        sender_id=message.sender_id if message else sender_id,
        kind=kind,
        status=status,
        reason=taken.reason,
        content_type=taken.content_type,
        size_bytes=taken.size_bytes,
        sha256=taken.sha256,
        needs_listening=kind is MessageType.VOICE and status is AttachmentStatus.STORED,
        created_at=message.sent_at if message else now,
    )
    session.add(row)
    session.flush()
    return row


def upload(
    session: Session,
    store: FileStore,
    data: bytes,
    *,
    ticket_id: int,
    grid_id: int,
    sender_id: int | None,
    role: AttachmentRole,
    now: datetime,
) -> Attachment:
    """A photo uploaded on the work page or through the API, linked to its ticket at once."""
    taken = store.put_bytes(data)
    kind = MessageType.IMAGE if taken.content_type.startswith("image/") else MessageType.FILE
    row = _add(session, taken, kind, now, grid_id=grid_id, sender_id=sender_id)
    link(session, [row], ticket_id, role, now)  # a refused one too: the ticket shows why
    return row


def of_message(session: Session, message_id: int) -> list[Attachment]:
    """The attachments a message carried."""
    return list(session.scalars(select(Attachment).where(Attachment.message_id == message_id)))


def link(
    session: Session, rows: Sequence[Attachment], ticket_id: int, role: AttachmentRole, now: datetime
) -> int:
    """Make attachments evidence of a ticket (their messages join the ticket's trail); how many."""
    for row in rows:
        row.ticket_id, row.role, row.linked_at = ticket_id, role, now
        if row.message_id is not None:
            message = session.get(Message, row.message_id)
            if message is not None and message.ticket_id is None:
                message.ticket_id = ticket_id
    session.flush()
    return len(rows)


def recent_unlinked(
    session: Session, group_id: int, sender_id: int, since: datetime, until: datetime
) -> list[Attachment]:
    """What one person sent in one group in a time window that is evidence of nothing yet."""
    return list(
        session.scalars(
            select(Attachment)
            .where(
                Attachment.group_id == group_id,
                Attachment.sender_id == sender_id,
                Attachment.ticket_id.is_(None),
                Attachment.created_at >= since,
                Attachment.created_at <= until,
            )
            .order_by(Attachment.id)
        )
    )


def recent_report(session: Session, group_id: int, sender_id: int, since: datetime) -> int | None:
    """The ticket of this person's latest text message in this group since `since` (a report, a merge)."""
    return session.scalar(
        select(Message.ticket_id)
        .where(
            Message.group_id == group_id,
            Message.sender_id == sender_id,
            Message.direction == MessageDirection.INBOUND,
            Message.msg_type == MessageType.TEXT,
            Message.ticket_id.is_not(None),
            Message.sent_at >= since,
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    )


def recently_resolved_by(session: Session, person_id: int, grid_id: int, since: datetime) -> int | None:
    """The ticket of this grid this person last resolved (办结) since `since`, if any."""
    return session.scalar(
        select(TicketEvent.ticket_id)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.actor_id == person_id,
            TicketEvent.action == "resolve",
            TicketEvent.at >= since,
            Ticket.grid_id == grid_id,
        )
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
        .limit(1)
    )


def after_photos(session: Session, ticket_id: int) -> int:
    """How many 处置后照片 a ticket has (stored images linked as AFTER)."""
    return int(
        session.scalar(
            select(func.count(Attachment.id)).where(
                Attachment.ticket_id == ticket_id,
                Attachment.role == AttachmentRole.AFTER,
                Attachment.kind == MessageType.IMAGE,
                Attachment.status == AttachmentStatus.STORED,
            )
        )
        or 0
    )


def of_ticket(session: Session, ticket_id: int) -> list[Attachment]:
    """A ticket's attachments, oldest first (refused ones included, with their reason)."""
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.ticket_id == ticket_id)
            .order_by(Attachment.created_at, Attachment.id)
        )
    )


def purge(session: Session, store: FileStore, now: datetime, days: int) -> tuple[int, int]:
    """Delete attachments older than `days`, rows and files; (rows, files) deleted. Does not commit.

    A file is deleted once no remaining row names its hash (the same photo sent twice is one file).
    Files are removed before the transaction commits: a rollback then leaves rows whose file is gone,
    which read as 404 and are deleted by the next purge — never a file kept past its time.
    """
    if days < 1:
        raise ValueError(f"retention must be at least 1 day, got {days}")
    cutoff = now - timedelta(days=days)
    old = list(
        session.execute(select(Attachment.id, Attachment.sha256).where(Attachment.created_at < cutoff))
    )
    if not old:
        return 0, 0
    ids = [i for i, _ in old]
    for start in range(0, len(ids), 500):
        session.execute(
            delete(Attachment)
            .where(Attachment.id.in_(ids[start : start + 500]))
            .execution_options(synchronize_session=False)
        )
    hashes = sorted({h for _, h in old if h})
    kept: set[str | None] = set()
    for start in range(0, len(hashes), 500):
        chunk = hashes[start : start + 500]
        kept |= set(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(chunk))))
    files = sum(store.delete(h) for h in hashes if h not in kept)
    return len(ids), files

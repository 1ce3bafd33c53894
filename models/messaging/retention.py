"""Data retention: blank message text older than N days, keeping every row and the metrics built on them.

What is purged, once a message is older than the retention period:
- `messages.text` (raw) and `messages.text_masked` of inbound messages (residents' and staff's) and of
  the bot's outbound copies, which can quote a resident (the urgent alert quotes the masked report,
  a 回复 relays a gridworker's words); the row's `text_purged_at` records when.
- `outbox.text` of rows already delivered or given up (SENT, DEAD): the same words as the copies.

What stays: every row, with its direction, sender, role, grid, times, kind, category, priority,
confidence, status and ticket link, so message counts, active residents, engagement and rollups do
not move. The classification payload stays too: it holds labels, scores and urgency-cue *kinds*,
never text. An inbound message still PENDING keeps its text (it has not been handled yet), and so
does an outbox row not yet sent. Tickets (`tickets.text`, event notes) are the case file, not chat
history, and are outside this purge.

Attachments (photos, files, voice) older than their retention period are deleted outright, file and
row (`purge_attachments`): a photo is the personal data itself, there is no metric to keep. The
message row that carried it stays, with its type.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from gridbot.models.attachments import records as attachment_records
from gridbot.models.attachments.store import FileStore
from gridbot.models.entities import Message, Outbox
from gridbot.models.enums import MessageStatus, OutboxStatus

_DONE_OUTBOX = (OutboxStatus.SENT, OutboxStatus.DEAD)


def retention_cutoff(now: datetime, days: int) -> datetime:
    """The instant before which message text is purged; `days` must be at least 1."""
    if days < 1:
        raise ValueError(f"retention must be at least 1 day, got {days}")
    return now - timedelta(days=days)


def purge_message_text(session: Session, now: datetime, days: int) -> int:
    """Blank the text of messages (and delivered outbox rows) older than `days`; returns rows purged.

    Idempotent: purged rows are not counted again. Does not commit. Objects already loaded in
    `session` are not refreshed, so run it in a session of its own.
    """
    cutoff = retention_cutoff(now, days)
    messages = session.execute(
        update(Message)
        .where(
            Message.sent_at < cutoff,
            Message.text_purged_at.is_(None),
            Message.status != MessageStatus.PENDING,
        )
        .values(text=None, text_masked="", text_purged_at=now)
        .execution_options(synchronize_session=False)
    )
    outbox = session.execute(
        update(Outbox)
        .where(Outbox.created_at < cutoff, Outbox.status.in_(_DONE_OUTBOX), Outbox.text != "")
        .values(text="")
        .execution_options(synchronize_session=False)
    )
    return _rowcount(messages) + _rowcount(outbox)


def purge_attachments(session: Session, store: FileStore, now: datetime, days: int) -> tuple[int, int]:
    """Delete attachments (rows and files) older than `days`; (rows, files) deleted. Does not commit."""
    retention_cutoff(now, days)  # the same lower bound as the text purge
    return attachment_records.purge(session, store, now, days)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)

"""The outbox: what the bot owes the groups, written in the same transaction as its cause."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.entities import Outbox
from models.enums import OutboxKind


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    kind: OutboxKind,
    text: str,
    now: datetime,
    room_id: str | None = None,
    recipient_platform_id: str | None = None,
    mention_ids: Sequence[str] = (),
    ticket_id: int | None = None,
    bot_account: str | None = None,
) -> Outbox:
    """Queue one outbound message; a second call with the same `dedupe_key` returns the first row."""
    existing = session.scalar(select(Outbox).where(Outbox.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    row = Outbox(
        dedupe_key=dedupe_key,
        kind=kind,
        text=text,
        room_id=room_id,
        recipient_platform_id=recipient_platform_id,
        mention_ids=list(mention_ids),
        ticket_id=ticket_id,
        bot_account=bot_account,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    session.flush()
    return row

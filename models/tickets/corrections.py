"""Gridworkers' reclassifications (改类) as training examples: the classifier learns from its mistakes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import Ticket, TicketEvent


@dataclass(frozen=True)
class Correction:
    """One corrected example: the (masked) text and the labels a gridworker gave it."""

    ticket_id: int
    text: str
    kind: str
    category: str
    priority: str
    was_kind: str
    was_category: str
    at: datetime

    def as_training_row(self) -> dict[str, object]:
        """The JSONL row `gridbot train --data` reads."""
        return {
            "text": self.text,
            "kind": self.kind,
            "category": self.category,
            "priority": self.priority,
            "source": f"correction:ticket:{self.ticket_id}",
        }


def corrections(session: Session, since: datetime | None = None) -> Iterator[Correction]:
    """The latest reclassification of each ticket (a later 改类 overrides an earlier one)."""
    query = (
        select(TicketEvent, Ticket.priority)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.action == "reclassify")
        .order_by(TicketEvent.ticket_id, TicketEvent.id)
    )
    if since is not None:
        query = query.where(TicketEvent.at >= since)
    latest: dict[int, tuple[TicketEvent, str]] = {}
    for event, level in session.execute(query):
        latest[event.ticket_id] = (event, level.value)
    for ticket_id, (event, priority) in latest.items():
        data = event.data or {}
        to, was = data.get("to") or {}, data.get("from") or {}
        text = data.get("text")
        if not text or not to.get("kind") or not to.get("category"):
            continue
        yield Correction(
            ticket_id=ticket_id,
            text=str(text),
            kind=str(to["kind"]),
            category=str(to["category"]),
            priority=priority,
            was_kind=str(was.get("kind", "")),
            was_category=str(was.get("category", "")),
            at=event.at,
        )

"""Mask stored rows again with the current masker (`gridbot db remask`), after the masker learned more.

Texts with a raw copy (messages, tickets) get `text_masked` recomputed from the raw text the way intake
computes it (normalise, then mask); texts stored masked only (display names, notes, rating comments)
are masked again as they are, which removes what the old masker missed and keeps what it tagged.
Idempotent; run it once after upgrading.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import Message, Person, Rating, Ticket, TicketEvent
from gridbot.models.enums import MessageDirection
from gridbot.nlp.normalize import normalize
from gridbot.nlp.pii import mask

BATCH = 500


def remask(session: Session) -> dict[str, int]:
    """Re-mask every stored text; returns how many rows changed, by table."""
    changed = {"messages": 0, "tickets": 0, "persons": 0, "ticket_events": 0, "ratings": 0}
    messages = select(Message).where(Message.text.is_not(None)).execution_options(yield_per=BATCH)
    for message in session.scalars(messages):
        raw = message.text or ""
        # as written: inbound text is normalised before masking (intake), the bot's own copies are not
        fresh = mask(normalize(raw)) if message.direction is MessageDirection.INBOUND else mask(raw)
        if fresh != message.text_masked:
            message.text_masked, changed["messages"] = fresh, changed["messages"] + 1
    for ticket in session.scalars(select(Ticket).execution_options(yield_per=BATCH)):
        fresh = mask(normalize(ticket.text)) if ticket.text else ticket.text_masked
        note = mask(ticket.resolution_note) if ticket.resolution_note else ticket.resolution_note
        if (fresh, note) != (ticket.text_masked, ticket.resolution_note):
            ticket.text_masked, ticket.resolution_note = fresh, note
            changed["tickets"] += 1
    for person in session.scalars(select(Person).execution_options(yield_per=BATCH)):
        if person.name and mask(person.name) != person.name:
            person.name, changed["persons"] = mask(person.name), changed["persons"] + 1
    for event in session.scalars(select(TicketEvent).where(TicketEvent.note.is_not(None))):
        if event.note and mask(event.note) != event.note:
            event.note, changed["ticket_events"] = mask(event.note), changed["ticket_events"] + 1
    for rating in session.scalars(select(Rating).where(Rating.comment.is_not(None))):
        if rating.comment and mask(rating.comment) != rating.comment:
            rating.comment, changed["ratings"] = mask(rating.comment), changed["ratings"] + 1
    session.flush()
    return changed

"""Fair use of ticket creation: one resident, or one group, cannot flood the grid with tickets.

Within `fair_use.window_hours`, a resident may open `tickets_per_resident` new tickets and a grid's
group `tickets_per_room`. A report past either limit does not open a ticket, start SLA clocks or
sound the urgent alarm: it goes into the resident's one *review item* for the window (a 待确认
ticket the gridworkers see in their list, with an "overflow" event per report), and the resident gets
one polite reply the first time. Counts come from the tickets table's (grid_id, created_at) index.
Merging into an existing ticket is never limited: it opens nothing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from gridbot.handlers.context import Context
from gridbot.models.entities import Ticket, TicketEvent
from gridbot.models.enums import OPEN_STATUSES, Priority, TicketKind
from gridbot.models.settings import FairUseSettings
from gridbot.models.tickets import service as tickets
from gridbot.nlp.classifier import Classification

REPLY = {
    "resident": "您今天反映的事项较多，后续内容已转网格员统一核实处理，请耐心等待。如遇紧急情况请直接拨打 110/119/120。",
    "room": "本群今天反映的事项较多，您的内容已转网格员统一核实处理，请耐心等待。如遇紧急情况请直接拨打 110/119/120。",
}
OVERFLOW = "overflow"


def over_limit(ctx: Context, limits: FairUseSettings) -> str | None:
    """ "resident" or "room" when a new ticket would pass that limit, else None."""
    grid = ctx.require_grid()
    since = ctx.now - timedelta(hours=limits.window_hours)
    recent = (
        select(func.count()).select_from(Ticket).where(Ticket.grid_id == grid.id, Ticket.created_at >= since)
    )
    if (
        int(ctx.session.scalar(recent.where(Ticket.reporter_id == ctx.person.id)) or 0)
        >= limits.tickets_per_resident
    ):
        return "resident"
    if int(ctx.session.scalar(recent) or 0) >= limits.tickets_per_room:
        return "room"
    return None


def divert(ctx: Context, c: Classification, limits: FairUseSettings, reason: str) -> int:
    """Add the report to the resident's review item for the window (opened on first use); its number."""
    grid = ctx.require_grid()
    since = ctx.now - timedelta(hours=limits.window_hours)
    item = ctx.session.scalars(
        select(Ticket)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(
            Ticket.grid_id == grid.id,
            Ticket.reporter_id == ctx.person.id,
            Ticket.created_at >= since,
            Ticket.status.in_(OPEN_STATUSES),
            TicketEvent.action == OVERFLOW,
        )
        .order_by(Ticket.created_at.desc())
        .limit(1)
    ).first()
    first = item is None
    if item is None:
        assert c.category is not None
        item = tickets.open_ticket(
            ctx.session,
            grid_id=grid.id,
            kind=TicketKind(c.kind),
            category=c.category,
            category_label=ctx.taxonomy.label(c.category),
            priority=Priority.NORMAL,  # an over-limit "urgent" is reviewed by a person, not alarmed
            text=ctx.message.text or "",
            text_masked=ctx.message.text_masked,
            reporter_id=ctx.person.id,
            now=ctx.now,
            policy=ctx.policy,
            source_message_id=ctx.message.id,
            confidence=c.confidence,
            needs_review=True,
        )
    tickets.note_overflow(ctx.session, item, ctx.message.id, reason, c.priority, ctx.now)
    if first:
        ctx.reply(REPLY[reason])
    return item.id

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

from gridbot.handlers.context import Context
from gridbot.models.enums import Priority, TicketKind
from gridbot.models.settings import FairUseSettings
from gridbot.models.tickets import duplicate_index, fair_use
from gridbot.models.tickets import service as tickets
from gridbot.models.wording import residents as say
from gridbot.nlp.classifier import Classification


def over_limit(ctx: Context, limits: FairUseSettings) -> str | None:
    """ "resident" or "room" when a new ticket would pass that limit, else None."""
    grid = ctx.require_grid()
    since = ctx.now - timedelta(hours=limits.window_hours)
    mine, room = fair_use.recent_tickets(ctx.session, grid.id, ctx.person.id, since)
    if mine >= limits.tickets_per_resident:
        return "resident"
    if room >= limits.tickets_per_room:
        return "room"
    return None


def divert(
    ctx: Context,
    c: Classification,
    limits: FairUseSettings,
    reason: str,
    duplicate_entry: duplicate_index.Entry | None = None,
) -> int:
    """Add the report to the resident's review item for the window (opened on first use); its number.

    `duplicate_entry`: the report's duplicate features, stored with the item when this opens it (None:
    computed by the next duplicate check, which then writes them)."""
    grid = ctx.require_grid()
    since = ctx.now - timedelta(hours=limits.window_hours)
    item = fair_use.open_review_item(ctx.session, grid.id, ctx.person.id, since)
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
            duplicate_entry=duplicate_entry,
            staff=ctx.grid_staff(grid.id),
        )
    tickets.note_overflow(ctx.session, item, ctx.message.id, reason, c.priority, ctx.now)
    if first:
        ctx.reply(say.OVER_LIMIT[reason])
    return item.id

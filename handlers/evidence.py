"""Photos, files and voice as evidence: which ticket a message's attachment belongs to.

- A resident's photo/file/voice sent shortly after their report (same person, same group, within
  the window), or quote-replying the bot's ticket message, is evidence of that ticket (现场照片);
  one sent shortly before a report waits unlinked and joins the ticket the report opens or merges
  into (`collect_for_report`).
- A gridworker's photo sent shortly after their 办结 is that ticket's 处置后照片; one sent shortly
  before 办结 is claimed by the command (`claim_for_closing`), so a category whose policy needs a
  photo can be closed by sending the photo, then 办结.
- A voice message is kept and flagged; the grid's gridworkers are told privately to listen to it.
  When the operator configured a local speech-to-text command its masked text is kept beside it.
"""

from __future__ import annotations

import logging

from gridbot.handlers.context import Context
from gridbot.handlers.parsing import ticket_in
from gridbot.models.attachments import records
from gridbot.models.attachments.kit import AttachmentKit
from gridbot.models.entities import Attachment, Ticket
from gridbot.models.enums import AttachmentRole, AttachmentStatus, MessageType
from gridbot.models.org import directory
from gridbot.models.wording import staff
from gridbot.nlp.normalize import normalize
from gridbot.nlp.pii import mask

logger = logging.getLogger(__name__)


def on_media(ctx: Context) -> int | None:
    """Link the attachment of a photo/file/voice message to its ticket, if one is meant; the ticket id."""
    kit, grid = ctx.attachments, ctx.grid
    if kit is None or grid is None:
        return None
    rows = records.of_message(ctx.session, ctx.message.id)
    for row in rows:
        _transcribe(kit, row)
    staff_member = ctx.is_worker or ctx.is_admin
    ticket_id = _quoted_ticket(ctx)
    role = AttachmentRole.AFTER if staff_member else AttachmentRole.REPORT
    if ticket_id is None and staff_member:
        ticket_id = records.recently_resolved_by(
            ctx.session, ctx.person.id, grid.id, ctx.msg.sent_at - kit.window
        )
    elif ticket_id is None:
        ticket_id = records.recent_report(
            ctx.session, ctx.group.id, ctx.person.id, ctx.msg.sent_at - kit.window
        )
    if ticket_id is not None:
        records.link(ctx.session, rows, ticket_id, role, ctx.now)
        ticket = ctx.session.get(Ticket, ticket_id)
        if ticket is not None and role is AttachmentRole.AFTER and _has_image(rows):
            ctx.reply(staff.after_photo_kept(ticket.number))
    if not staff_member and any(r.needs_listening for r in rows):
        _flag_voice(ctx, ticket_id)
    return ticket_id


def _quoted_ticket(ctx: Context) -> int | None:
    """The ticket named in the bot message this one quote-replies, when it belongs to this grid."""
    number = ticket_in(ctx.msg.quoted_text)
    if number is None or ctx.grid is None:
        return None
    ticket = ctx.session.get(Ticket, number)
    return ticket.id if ticket is not None and ticket.grid_id == ctx.grid.id else None


def _has_image(rows: list[Attachment]) -> bool:
    return any(r.kind is MessageType.IMAGE and r.status is AttachmentStatus.STORED for r in rows)


def _transcribe(kit: AttachmentKit, row: Attachment) -> None:
    if kit.transcriber is None or row.kind is not MessageType.VOICE or row.sha256 is None:
        return
    text = kit.transcriber.transcribe(kit.store.path_of(row.sha256))
    if text:
        row.transcript_masked = mask(normalize(text))


def _flag_voice(ctx: Context, ticket_id: int | None) -> None:
    """Tell the grid's gridworkers privately that a resident's voice message waits to be heard."""
    assert ctx.grid is not None
    ticket = ctx.session.get(Ticket, ticket_id) if ticket_id is not None else None
    text = staff.voice_to_listen(ticket.number if ticket else None)
    for person in directory.grid_workers(ctx.session, ctx.grid.id):
        if person.platform_id:
            ctx.tell(person.platform_id, text)


def collect_for_report(ctx: Context, ticket_id: int) -> int:
    """A report just opened or joined a ticket: the sender's unlinked attachments of the last minutes join it."""
    kit = ctx.attachments
    if kit is None:
        return 0
    rows = records.recent_unlinked(
        ctx.session, ctx.group.id, ctx.person.id, ctx.msg.sent_at - kit.window, ctx.msg.sent_at
    )
    return records.link(ctx.session, rows, ticket_id, AttachmentRole.REPORT, ctx.now)


def claim_for_closing(ctx: Context, ticket_id: int) -> int:
    """办结: the gridworker's unlinked photos of the last minutes in this group become its 处置后照片."""
    kit = ctx.attachments
    if kit is None:
        return 0
    rows = records.recent_unlinked(
        ctx.session, ctx.group.id, ctx.person.id, ctx.msg.sent_at - kit.window, ctx.msg.sent_at
    )
    return records.link(ctx.session, rows, ticket_id, AttachmentRole.AFTER, ctx.now)

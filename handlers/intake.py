"""Residents' messages: rating replies, then classify → file a ticket, merge a duplicate, or ignore."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from gridbot.handlers import fair_use, replies
from gridbot.handlers.context import Context
from gridbot.handlers.parsing import canonical, ticket_in
from gridbot.models.entities import Person, Ticket, TicketReporter
from gridbot.models.enums import (
    OPEN_STATUSES,
    OutboxKind,
    Priority,
    RatingScore,
    Role,
    TicketKind,
    TicketStatus,
)
from gridbot.models.org.directory import grid_workers
from gridbot.models.settings import FairUseSettings, NLPSettings
from gridbot.models.tickets import service as tickets
from gridbot.nlp.classifier import Classification
from gridbot.nlp.duplicates import MERGE, SUGGEST, OpenTicket, Thresholds, find_duplicate
from gridbot.nlp.pii import mask

# "3 灯还是不亮" is a rating; "3栋2单元…" is not: a digit counts only when followed by a break.
RATING = re.compile(
    r"^\s*(?:([123])(?=$|[\s，,。.:：!！])|(基本满意|不满意|满意))[\s，,。.:：!！]*(.*)$", re.S
)
SCORES = {
    "1": RatingScore.SATISFIED,
    "满意": RatingScore.SATISFIED,
    "2": RatingScore.BASICALLY_SATISFIED,
    "基本满意": RatingScore.BASICALLY_SATISFIED,
    "3": RatingScore.UNSATISFIED,
    "不满意": RatingScore.UNSATISFIED,
}


# the 回访 question 「问题解决了吗」, answered after the score: "1 已解决", "3 没解决"; 未/没 first
SOLVED = re.compile(r"^(?:(未解决|没解决|没有解决|还没解决|解决不了)|(已解决|解决了|解决))")


def solved_answer(rest: str) -> tuple[bool | None, str | None]:
    """The 「问题解决了吗」 answer at the start of what follows a rating, and the remaining comment."""
    m = SOLVED.match(rest.strip())
    if m is None:
        return None, rest.strip() or None
    remaining = rest.strip()[m.end() :].lstrip(" ，,。.:：!！")
    return m.group(1) is None, remaining or None


def try_rating(ctx: Context) -> bool:
    """A reporter's 1/2/3 (or 满意…) reply to a rating prompt; False if this is not one."""
    m = RATING.match(canonical(ctx.msg.text))
    if m is None:
        return False
    number = ticket_in(ctx.msg.quoted_text)
    query = (
        select(Ticket.id)
        .join(TicketReporter, TicketReporter.ticket_id == Ticket.id)
        .where(
            TicketReporter.person_id == ctx.person.id,
            Ticket.status == TicketStatus.RESOLVED,
            Ticket.resolved_at >= ctx.now - tickets.RATING_WINDOW,
        )
        .order_by(Ticket.resolved_at.desc())
    )
    if number is not None:
        query = query.where(Ticket.id == number)
    target = ctx.session.scalars(query.limit(1)).first()
    if target is None:
        return False
    score = SCORES[m.group(1) or m.group(2)]
    solved, comment = solved_answer(m.group(3) or "")
    tickets.rate(
        ctx.session,
        target,
        ctx.actor,
        ctx.now,
        score,
        ctx.policy,
        comment=(mask(comment) if comment else None),
        solved=solved,
    )
    if score is not RatingScore.UNSATISFIED:  # 不满意 is answered by the reopen announcement
        ctx.reply(f"感谢您的评价！工单 #{target} 已完结")
    return True


def _candidates(ctx: Context, window: timedelta) -> list[OpenTicket]:
    grid = ctx.require_grid()
    rows = ctx.session.execute(
        select(Ticket.id, Ticket.text, Ticket.category, Ticket.created_at).where(
            Ticket.grid_id == grid.id,
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.created_at >= ctx.now - window,
        )
    ).all()
    return [OpenTicket(id=r[0], text=r[1], category=r[2], created_at=r[3]) for r in rows]


def file_report(
    ctx: Context, c: Classification, settings: NLPSettings, limits: FairUseSettings | None = None
) -> int | None:
    """Turn an actionable message into a ticket (or a merge); returns the ticket number."""
    assert c.category is not None
    grid = ctx.require_grid()
    masked = ctx.message.text_masked
    window = timedelta(hours=settings.duplicate_window_hours)
    thresholds = Thresholds(
        merge=settings.duplicate_merge_threshold, suggest=settings.duplicate_suggest_threshold, window=window
    )
    # compared on the raw text in memory: masking would erase the building/unit cues
    match = find_duplicate(ctx.message.text or "", c.category, _candidates(ctx, window), ctx.now, thresholds)
    if match.decision == MERGE and match.ticket_id is not None:
        target = ctx.session.get(Ticket, int(match.ticket_id))
        assert target is not None
        tickets.add_reporter(ctx.session, target, ctx.person.id, ctx.message.id, ctx.now)
        ctx.reply(replies.merged_into(target))
        return target.id
    over = fair_use.over_limit(ctx, limits or FairUseSettings())
    if over is not None:
        return fair_use.divert(ctx, c, limits or FairUseSettings(), over)
    urgent = c.priority == Priority.URGENT.value
    review = c.needs_review and not urgent
    ticket = tickets.open_ticket(
        ctx.session,
        grid_id=grid.id,
        kind=TicketKind(c.kind),
        category=c.category,
        category_label=ctx.taxonomy.label(c.category),
        priority=Priority.URGENT if urgent else Priority.NORMAL,
        text=ctx.message.text or "",
        text_masked=masked,
        reporter_id=ctx.person.id,
        now=ctx.now,
        policy=ctx.policy,
        source_message_id=ctx.message.id,
        confidence=c.confidence,
        needs_review=review,
    )
    if match.decision == SUGGEST and match.ticket_id is not None:
        tickets.note_similar(ctx.session, ticket, int(match.ticket_id), match.score, ctx.now)
    if review:
        return ticket.id  # no public reply: it waits in the gridworkers' 待确认 list
    assignee = ctx.session.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    ctx.reply(
        replies.filed(ctx.msg.sender_name, ticket, assignee.name if assignee else None), ticket_id=ticket.id
    )
    if urgent:
        alarm = [p.platform_id for p in grid_workers(ctx.session, grid.id) if p.platform_id]
        ctx.reply(
            replies.urgent(ticket), mention_ids=tuple(alarm), kind=OutboxKind.ALERT, ticket_id=ticket.id
        )
    return ticket.id


def worker_mentions_reporter(ctx: Context) -> int | None:
    """A gridworker's ordinary reply @-mentioning a resident: first response on their newest open ticket."""
    grid = ctx.grid
    if grid is None or not ctx.msg.mentions:
        return None
    residents = ctx.session.scalars(select(Person.id).where(Person.platform_id.in_(ctx.msg.mentions))).all()
    if not residents:
        return None
    number = ctx.session.scalars(
        select(Ticket.id)
        .join(TicketReporter, TicketReporter.ticket_id == Ticket.id)
        .where(
            TicketReporter.person_id.in_(residents),
            Ticket.grid_id == grid.id,
            Ticket.status.in_((TicketStatus.NEW, TicketStatus.ACCEPTED)),
            Ticket.first_response_at.is_(None),
        )
        .order_by(Ticket.created_at.desc())
        .limit(1)
    ).first()
    if number is None or Role.RESIDENT in ctx.roles and not ctx.is_worker:
        return None
    tickets.respond(ctx.session, number, ctx.actor, ctx.now, mask(ctx.msg.text), announce_it=False)
    return number

"""Residents' messages: ratings, follow-ups (催办), then classify → file a ticket, merge a duplicate, or ignore.

Staff messages: an @-reply to a resident counts as a first response only when it clearly refers to
one ticket; a report a gridworker addresses to no one is filed as found on patrol (主动发现).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from gridbot.handlers import duplicate_check, fair_use, replies
from gridbot.handlers.context import Context
from gridbot.handlers.parsing import TICKET_REF, canonical, ticket_in
from gridbot.models.entities import Ticket
from gridbot.models.enums import STATUS_LABELS, OutboxKind, Priority, RatingScore, TicketKind, TicketSource
from gridbot.models.org import directory
from gridbot.models.settings import FairUseSettings, NLPSettings
from gridbot.models.tickets import service as tickets
from gridbot.models.wording import residents, staff
from gridbot.nlp import cues
from gridbot.nlp.base import REVIEW_LIVE_CUE
from gridbot.nlp.classifier import Classification
from gridbot.nlp.duplicates import MERGE, SUGGEST, Thresholds, text_similarity
from gridbot.nlp.normalize import normalize
from gridbot.nlp.pii import mask

Classify = Callable[[str], Classification]

# "3 灯还是不亮" starts with a score; "3栋2单元…" does not: a digit counts only when followed by a break.
RATING = re.compile(
    r"^\s*(?:([123])(?=$|[\s，,。.:：!！#])|(基本满意|不满意|满意))[\s，,。.:：!！]*(.*)$", re.S
)
SCORES = {
    "1": RatingScore.SATISFIED,
    "满意": RatingScore.SATISFIED,
    "2": RatingScore.BASICALLY_SATISFIED,
    "基本满意": RatingScore.BASICALLY_SATISFIED,
    "3": RatingScore.UNSATISFIED,
    "不满意": RatingScore.UNSATISFIED,
}
# a resident chasing an earlier report (催办)
FOLLOW_UP = re.compile(
    r"催|还没(?:有)?(?:修|处理|解决|人|回|弄|来|好)|怎么还|咋还|什么时候(?:能|来|修|处理)|进展|进度|多久|处理得怎么样|有人管吗"
)
COMMENT_MAX = 200
# a staff member telling how work goes, not reporting something new
PROGRESS = re.compile(r"到现场|到了|已经|已|正在|在处理|处理中|联系|修好|搞定|收到|马上|稍等|跟进|回复|通知")


# the 回访 question 「问题解决了吗」, answered after the score: "1 已解决", "3 没解决"; 未/没 first
SOLVED = re.compile(r"^(?:(未解决|没解决|没有解决|还没解决|解决不了)|(已解决|解决了|解决))")


def solved_answer(rest: str) -> tuple[bool | None, str | None]:
    """The 「问题解决了吗」 answer at the start of what follows a rating, and the remaining comment."""
    m = SOLVED.match(rest.strip())
    if m is None:
        return None, rest.strip() or None
    remaining = rest.strip()[m.end() :].lstrip(" ，,。.:：!！")
    return m.group(1) is None, remaining or None


def looks_like_patrol_finding(text: str) -> bool:
    """A gridworker's unaddressed report of what they found: it names a place and is no progress note."""
    normal = normalize(text)
    return bool(cues.place(normal)) and PROGRESS.search(normal) is None


class Rated(Enum):
    """What a message starting with a score turned out to be."""

    NOT_A_RATING = "no"
    DONE = "done"  # rated, or asked which ticket
    REPORT = "report"  # a score followed by a new report: file the report


@dataclass(frozen=True)
class RatingResult:
    """The outcome and the ticket awaiting a rating (to remind after filing a report)."""

    outcome: Rated
    waiting: int | None = None
    report: str | None = None  # REPORT: the text after the score, which reads as the new report


def try_rating(ctx: Context, classify: Classify) -> RatingResult:
    """A reporter's bare score (1/2/3, 满意…, optional short comment) for a ticket of this grid."""
    m = RATING.match(canonical(ctx.msg.text))
    grid = ctx.grid
    if m is None or grid is None:
        return RatingResult(Rated.NOT_A_RATING)
    waiting = tickets.awaiting_rating(ctx.session, ctx.person.id, grid.id, ctx.now)
    if not waiting:
        return RatingResult(Rated.NOT_A_RATING)
    rest = m.group(3) or ""
    named = ticket_in(ctx.msg.quoted_text) or ticket_in(rest)
    comment = TICKET_REF.sub(" ", rest).strip(" ，,。.")
    remark = solved_answer(comment)[1] or ""
    if remark and _is_new_report(ctx, remark, waiting, classify):
        return RatingResult(Rated.REPORT, waiting[0], remark)
    if named is not None and named not in waiting:
        ctx.reply(residents.rating_which([f"#{n}" for n in waiting]))
        return RatingResult(Rated.DONE)
    if named is None and len(waiting) > 1:
        ctx.reply(residents.rating_which([f"#{n}" for n in waiting]))
        return RatingResult(Rated.DONE)
    target = named if named is not None else waiting[0]
    score = SCORES[m.group(1) or m.group(2)]
    solved, kept = solved_answer(comment)
    comment = kept or ""
    tickets.rate(
        ctx.session,
        target,
        ctx.actor,
        ctx.now,
        score,
        ctx.policy,
        comment=mask(comment[:COMMENT_MAX]) if comment else None,
        solved=solved,
    )
    if score is not RatingScore.UNSATISFIED:  # 不满意 is answered by the reopen announcement
        ctx.reply(residents.rating_thanks(f"#{target}"))
    return RatingResult(Rated.DONE)


def _is_new_report(ctx: Context, comment: str, waiting: list[int], classify: Classify) -> bool:
    """Whether what follows the score reads as a new problem rather than a remark on the rated one."""
    c = classify(comment)
    here = cues.location(normalize(comment))
    if not c.actionable or not here:
        return False  # a remark naming no place (「3 灯还是不亮」) is about the ticket being rated
    for number in waiting:
        t = ctx.session.get(Ticket, number)
        if t is None:
            continue
        there = cues.location(normalize(t.text))
        elsewhere = bool(here) and bool(there) and not cues.same_place(here, there)
        if t.category == c.category and not elsewhere:
            return False  # same problem, same place: about the ticket being rated
    return True


def try_follow_up(ctx: Context) -> int | None:
    """A reporter chasing their own open ticket (催办): linked, answered with its status, never filed."""
    grid = ctx.grid
    if grid is None or not FOLLOW_UP.search(ctx.msg.text):
        return None
    mine = tickets.open_of_reporters(ctx.session, [ctx.person.id], grid.id)
    if not mine:
        return None
    named = ticket_in(ctx.msg.quoted_text) or ticket_in(ctx.msg.text)
    chosen = next((t for t in mine if t.id == named), None)
    if chosen is None:
        scored = [(text_similarity(ctx.msg.text, t.text), -t.id, t) for t in mine]
        best = max(scored, key=lambda s: (s[0], s[1]))
        if len(mine) > 1 and best[0] < 0.1:
            return None  # which one is meant is unclear: treat it as an ordinary message
        chosen = best[2]
    return _chase(ctx, chosen)


# how long after an urgent report the room's talk about it (「打119了吗」「消防来了」) belongs to its thread
EMERGENCY_THREAD = timedelta(minutes=60)


def try_emergency_thread(ctx: Context, c: Classification) -> int | None:
    """A remark the classifier is unsure of, in the hour after an urgent report in this grid, about the
    same danger and naming no other place: linked silently to that ticket, not filed as a new one.

    Without this, the neighbours' 「打119了吗」「打了 消防在路上」 around a fire each became a 待确认
    ticket, a private 疑似紧急 alarm and a 督办 chain. A confident report, another category's, or one
    naming another place is filed as usual (a second emergency is never swallowed).
    """
    grid = ctx.grid
    if grid is None or not c.needs_review:
        return None
    here = cues.location(normalize(ctx.msg.text))
    for t in tickets.recent_urgent(ctx.session, grid.id, ctx.now - EMERGENCY_THREAD):
        if t.category != c.category and c.review_reason != REVIEW_LIVE_CUE:
            continue
        there = cues.location(normalize(t.text))
        if here and there and not cues.same_place(here, there):
            continue
        if here and not there:
            continue  # a place the emergency did not name: maybe a second one
        tickets.note_thread(ctx.session, t, ctx.person.id, ctx.message.id, ctx.now)
        return t.id
    return None


def _chase(ctx: Context, ticket: Ticket) -> int:
    """Record the resident's 催办 on `ticket` and answer with its status and who works it."""
    tickets.urge(ctx.session, ticket, ctx.person.id, ctx.now, ctx.message.id)
    worker = directory.person_name(ctx.session, ticket.assignee_id)
    ctx.reply(
        residents.followed_up(ticket.number, ticket.category_label, STATUS_LABELS[ticket.status], worker)
    )
    return ticket.id


def file_report(
    ctx: Context,
    c: Classification,
    settings: NLPSettings,
    limits: FairUseSettings | None = None,
    source: TicketSource = TicketSource.RESIDENT,
) -> int | None:
    """Turn an actionable message into a ticket (or a merge); returns the ticket number."""
    assert c.category is not None
    grid = ctx.require_grid()
    masked = ctx.message.text_masked
    window = timedelta(hours=settings.duplicate_window_hours)
    thresholds = Thresholds(
        merge=settings.duplicate_merge_threshold, suggest=settings.duplicate_suggest_threshold, window=window
    )
    urgent = c.priority == Priority.URGENT.value
    # compared on the raw text in memory: masking would erase the building/unit cues
    dup = duplicate_check.check(ctx.session, grid.id, ctx.message.text or "", c.category, ctx.now, thresholds)
    match, priorities = dup.match, dup.priorities
    target_id = int(match.ticket_id) if match.ticket_id is not None else None
    # an urgent report never disappears into an ordinary ticket: a person merges it (keeping urgency)
    auto_merge = match.decision == MERGE and target_id is not None
    if auto_merge and urgent and priorities.get(target_id or 0) is not Priority.URGENT:
        auto_merge = False
    if auto_merge and source is TicketSource.RESIDENT:
        target = tickets.get_ticket(ctx.session, target_id or 0, reporters=True)
        if target.grid_id == grid.id and tickets.reported_open(target, ctx.person.id):
            # the reporter telling their own problem again (「狗还在叫」): a 催办, answered with the status
            return _chase(ctx, target)
        tickets.add_reporter(ctx.session, target, ctx.person.id, ctx.message.id, ctx.now)
        ctx.reply(replies.merged_into(target))
        return target.id
    patrol = source is TicketSource.PATROL
    if not patrol:  # fair use: per-resident and per-room ticket limits (issue 15)
        over = fair_use.over_limit(ctx, limits or FairUseSettings())
        if over is not None:
            return fair_use.divert(ctx, c, limits or FairUseSettings(), over, dup.entry)
    review = c.needs_review and not patrol
    staff_of_grid = ctx.grid_staff(grid.id)  # read once: assignee, alarms, reply
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
        source=source,
        assignee_id=ctx.person.id if patrol and ctx.is_worker else None,
        duplicate_entry=dup.entry,
        staff=staff_of_grid,
    )
    if match.decision in (SUGGEST, MERGE) and target_id is not None:
        tickets.note_similar(ctx.session, ticket, target_id, match.score, ctx.now)
    staff_ids = [p.platform_id for p, _ in staff_of_grid if p.platform_id]
    if patrol:
        ctx.reply(residents.filed_on_patrol(ticket.number, ticket.category_label))
    elif review:
        # a neutral receipt: no number, no promise, while a person checks it (待确认)
        ctx.reply(residents.RECEIPT)
        if urgent:  # a possible emergency: the staff hear privately at once, the group nothing yet
            text = staff.urgent_to_check(ticket.number, ticket.category_label, c.confidence, masked)
            for platform_id in staff_ids:
                ctx.tell(platform_id, text)
        return ticket.id
    else:
        worker = next((p.name for p, _ in staff_of_grid if p.id == ticket.assignee_id), None)
        ctx.reply(replies.filed(ticket, worker), ticket_id=ticket.id)
    if urgent:
        ctx.reply(
            staff.urgent_alarm(ticket.number, ticket.category_label, masked),
            mention_ids=tuple(staff_ids),
            kind=OutboxKind.ALERT,
            ticket_id=ticket.id,
        )
    return ticket.id


def announce_confirmed_urgent(ctx: Context, ticket: Ticket) -> None:
    """改级 紧急 of a ticket still waiting in 待确认: now the group hears it, with the alarm."""
    grid = ctx.require_grid()
    reporter = directory.platform_id_of(ctx.session, ticket.reporter_id)
    worker = directory.person_name(ctx.session, ticket.assignee_id)
    ctx.reply(replies.filed(ticket, worker), mention_ids=(reporter,) if reporter else ())
    staff_ids = [p.platform_id for p in directory.grid_workers(ctx.session, grid.id) if p.platform_id]
    ctx.reply(
        staff.urgent_alarm(ticket.number, ticket.category_label, ticket.text_masked),
        mention_ids=tuple(staff_ids),
        kind=OutboxKind.ALERT,
    )


def worker_mentions_reporter(ctx: Context, category: str | None) -> int | None:
    """A gridworker's @-reply to residents: a first response only when it clearly means one ticket.

    One open unanswered ticket of the residents, or the quoted ticket, or the one whose category
    matches what the reply is about; otherwise nothing is booked.
    """
    grid = ctx.grid
    if grid is None or not ctx.msg.mentions or not (ctx.is_worker or ctx.is_admin):
        return None
    people = directory.person_ids(ctx.session, ctx.msg.mentions)
    if not people:
        return None
    open_ = tickets.open_of_reporters(ctx.session, people, grid.id, unanswered=True)
    quoted = ticket_in(ctx.msg.quoted_text)
    chosen = [t for t in open_ if t.id == quoted] if quoted is not None else open_
    if len(chosen) > 1 and category is not None:
        chosen = [t for t in chosen if t.category == category]
    if len(chosen) != 1:
        return None
    number = chosen[0].id
    tickets.respond(ctx.session, number, ctx.actor, ctx.now, mask(ctx.msg.text), announce_it=False)
    return number

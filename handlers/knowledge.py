"""Answering residents' questions from the community knowledge base, and 人工 when it did not help.

An answered question becomes a ticket that is resolved at once by the system with the answer as
its note: it counts as first response, the resident is asked to rate it like any ticket, and
「人工」 reopens it (重办) for the gridworker. An unsure match falls through to filing as before.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from gridbot.handlers.context import Context
from gridbot.handlers.parsing import canonical
from gridbot.models import knowledge
from gridbot.models.entities import Person
from gridbot.models.enums import Priority, TicketKind
from gridbot.models.metrics import LOCAL_TZ
from gridbot.models.org.directory import SYSTEM_ACTOR
from gridbot.models.settings import get_settings
from gridbot.models.tickets import service as tickets
from gridbot.nlp.classifier import Classification
from gridbot.nlp.faq import Entry, FaqIndex, Thresholds, is_question

ESCALATE = re.compile(r"^\s*(?:转)?人工(?:服务|客服|处理)?[\s!！。.]*$")
SAVE_SUFFIX = "存为常见问题"


@lru_cache(maxsize=64)
def _index(entries: tuple[tuple[int, tuple[str, ...]], ...]) -> FaqIndex:
    """One index per distinct set of entries (entries change rarely; rebuilt when they do)."""
    return FaqIndex([Entry(i, q) for i, q in entries])


def _asked(ctx: Context, c: Classification) -> bool:
    # Issue 14 adds an is_question signal to Classification: when present it decides here;
    # until then a question cue in the text, or a request-kind classification, does.
    signal = getattr(c, "is_question", None)
    if isinstance(signal, bool):
        return signal
    return is_question(ctx.msg.text) or c.kind == TicketKind.REQUEST.value


def try_answer(ctx: Context, c: Classification) -> int | None:
    """Answer a confident match from the knowledge base; the ticket number, or None to file as before."""
    settings = get_settings().knowledge
    if not settings.enabled or ctx.grid is None or c.priority == Priority.URGENT.value or not _asked(ctx, c):
        return None
    today: date = ctx.now.astimezone(LOCAL_TZ).date()
    entries = knowledge.entries_for_grid(ctx.session, ctx.grid, today)
    if not entries:
        return None
    index = _index(tuple((e.id, tuple(e.questions)) for e in entries))
    match = index.match(ctx.msg.text, Thresholds(settings.threshold, settings.margin, settings.coverage))
    if not match.confident:
        return None
    entry = next(e for e in entries if e.id == match.entry_id)
    request_cats = ctx.taxonomy.categories_of(TicketKind.REQUEST.value)
    category = (
        c.category
        if c.category in request_cats
        else ("other_request" if "other_request" in request_cats else request_cats[-1])
    )
    ticket = tickets.open_ticket(
        ctx.session,
        grid_id=ctx.grid.id,
        kind=TicketKind.REQUEST,
        category=category,
        category_label=ctx.taxonomy.label(category),
        priority=Priority.NORMAL,
        text=ctx.message.text or "",
        text_masked=ctx.message.text_masked,
        reporter_id=ctx.person.id,
        now=ctx.now,
        policy=ctx.policy,
        source_message_id=ctx.message.id,
        confidence=match.score,
    )
    tickets.resolve(
        ctx.session,
        ticket.id,
        SYSTEM_ACTOR,
        ctx.now,
        note=f"常见问题解答：{entry.answer}",
        policy=ctx.policy,
        announce_it=False,
    )
    knowledge.record_answer(ctx.session, entry, ticket, match.score, ctx.now)
    ctx.reply(
        f"{entry.answer}\n（来源：{entry.source or '社区常见问题'}）\n"
        f"没解决请回复「人工」，网格员会跟进；解决了请回复 1 满意 / 2 基本满意 / 3 不满意（工单 {ticket.number}）"
    )
    return ticket.id


def try_escalate(ctx: Context) -> bool:
    """「人工」 after an answer from the knowledge base: reopen that ticket for the gridworker."""
    if ctx.grid is None or ESCALATE.match(canonical(ctx.msg.text)) is None:
        return False
    ticket = knowledge.answered_awaiting(
        ctx.session, ctx.person.id, ctx.grid.id, ctx.now, tickets.RATING_WINDOW
    )
    if ticket is None:
        return False
    tickets.reopen(
        ctx.session, ticket.id, ctx.actor, ctx.now, ctx.policy, reason="居民回复人工：常见问题解答未解决"
    )
    knowledge.mark_escalated(ctx.session, ticket.id, ctx.now)
    worker = ctx.session.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    mention = (worker.platform_id,) if worker is not None and worker.platform_id else ()
    who = f"网格员{worker.name}" if worker else "网格员"
    ctx.reply(f"已转{who}人工跟进工单 {ticket.number}：{ticket.text_masked[:40]}", mention_ids=mention)
    return True


def split_save(text: str) -> tuple[str, bool]:
    """`内容 存为常见问题` → (内容, True)."""
    body = text.rstrip(" 。.")
    if body.endswith(SAVE_SUFFIX):
        return body[: -len(SAVE_SUFFIX)].rstrip(" ，,。；;"), True
    return text, False

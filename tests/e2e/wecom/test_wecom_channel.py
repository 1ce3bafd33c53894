"""The WeCom channel end to end: the real AI-bot SDK against the fake long-connection server, the
archive puller over RSA-encrypted items, handoffs, on the real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from gridbot.bot.transport import TransportError
from gridbot.bot.wecom.transport import WeComTransport
from gridbot.models.entities import Handoff, Message, Outbox, SweepWatermark, Ticket, TicketDeadline, utcnow
from gridbot.models.enums import MessageDirection, OutboxStatus, TicketStatus
from gridbot.models.messaging import cursors
from tests.e2e.wecom.conftest import LEADER, LIU, ROOM, WORKER, WU, ZHANG, Bot, BotRunner, WeCom, until
from tests.e2e.wecom.fakes import to

pytestmark = [pytest.mark.e2e, pytest.mark.anyio, pytest.mark.integration]


def card_of(frame: dict[str, Any]) -> dict[str, Any]:
    card: dict[str, Any] = frame["body"]["template_card"]
    return card


async def test_archived_report_card_accept_handoff_closed_by_archive(wecom: WeCom, runner: BotRunner) -> None:
    bot = await runner.start()
    sessions = runner.sessions
    wecom.archive.post(ROOM, ZHANG, "3号楼电梯坏了，老人被困在楼上下不来，麻烦尽快派人修一下")
    # the gridworker gets the new ticket as a card, and the receipt ready to forward
    card_frame = await wecom.bot.wait_sent(to(WORKER, msgtype="template_card"))
    card = card_of(card_frame)
    assert [b["text"] for b in card["button_list"]] == ["接单", "办结", "转派"]
    receipt = await wecom.bot.wait_sent(to(WORKER, "已收到您反映的", "markdown"))
    assert "五台山一网格居民群" in receipt["body"]["markdown"]["content"]
    ticket = await until(lambda: _one(sessions, select(Ticket)))
    assert ticket.status is TicketStatus.NEW and ticket.first_response_at is None
    # nothing was posted into the residents' group: the bot may not post there
    assert not [f for f in wecom.bot.sent if f["body"].get("chatid") == ROOM]

    # 接单 on the card runs the lifecycle; the acceptance notice comes back as a handoff
    accept_key = next(b["key"] for b in card["button_list"] if b["text"] == "接单")
    await wecom.bot.push_click(WORKER, accept_key, card["task_id"])
    notice = await wecom.bot.wait_sent(to(WORKER, "已由网格员小王受理", "markdown"))
    accepted = await until(
        lambda: _one(sessions, select(Ticket).where(Ticket.status == TicketStatus.ACCEPTED))
    )
    assert accepted.first_response_at is None  # the resident has seen nothing yet

    # the gridworker posts it (sidebar one-tap): its appearance in the archive closes the handoff
    text = notice["body"]["markdown"]["content"].split("\n\n", 1)[1]
    posted_at = utcnow() - timedelta(seconds=1)
    wecom.archive.post(ROOM, WORKER, text, at=posted_at)
    closed = await until(
        lambda: _one(sessions, select(Handoff).where(Handoff.done_at.is_not(None), Handoff.kind == "notice"))
    )
    assert closed.ticket_id == ticket.id
    answered = await until(
        lambda: _one(sessions, select(Ticket).where(Ticket.first_response_at.is_not(None)))
    )
    assert abs(answered.first_response_at - posted_at) < timedelta(milliseconds=2)
    with sessions() as session:  # the posted reply was not routed as a new message
        archived = select(func.count()).select_from(Message).where(Message.platform_id.like("wecom:%"))
        assert session.scalar(archived) == 1
        receipt_handoff = session.scalar(select(Handoff).where(Handoff.kind == "reply"))
        assert receipt_handoff is not None and receipt_handoff.done_at is None  # not yet posted
    await runner.stop(bot)


async def test_member_without_consent_is_skipped_and_counted(wecom: WeCom, runner: BotRunner) -> None:
    bot = await runner.start()
    wecom.archive.post(ROOM, WU, "小区门口的路灯坏了好几天了，晚上很黑")
    marker = wecom.archive.post(ROOM, LIU, "今天天气不错")
    await until(lambda: channel_seq(runner) == 2)
    assert _one(runner.sessions, select(Message).where(Message.platform_id == f"wecom:{marker}"))
    with runner.sessions() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Message).where(Message.direction == MessageDirection.INBOUND)
            )
            == 1
        )
        cursor = cursors.cursor(session, "wecom-archive")
        assert (cursor.seq, cursor.skipped_no_consent) == (2, 1)
    await runner.stop(bot)


async def test_restart_resumes_from_the_cursor_with_nothing_doubled(wecom: WeCom, runner: BotRunner) -> None:
    bot = await runner.start()
    reports = ["5号楼下水道堵了，污水漫到路上", "东门垃圾桶满了两天没人清", "楼道灯不亮了，晚上看不见"]
    for text in reports:
        wecom.archive.post(ROOM, ZHANG, text)
    await until(lambda: _inbound(runner) == 3)
    await until(lambda: channel_seq(runner) == 3)
    await runner.stop(bot)
    wecom.archive.post(ROOM, LIU, "6号楼有人在楼道里堆放杂物，堵住了消防通道")
    fetched_before = len(wecom.archive.fetches)
    bot = await runner.start()
    await until(lambda: channel_seq(runner) == 4)
    assert wecom.archive.fetches[fetched_before][0] == 3  # resumed after the cursor, not from 0
    before = await until(
        lambda: (c := _counts(runner))["undelivered"] == 0 and c["handoffs"] and c
    )  # all sent
    # a lost cursor commit (a crash after routing): the next start reads the whole log again
    await runner.stop(bot)
    with runner.sessions.begin() as session:
        cursors.cursor(session, "wecom-archive").seq = 0
    fetched_before = len(wecom.archive.fetches)
    bot = await runner.start()
    reread = await until(
        lambda: next(
            (i for i, f in enumerate(wecom.archive.fetches) if i >= fetched_before and f[0] == 0), None
        )
    )
    await until(lambda: len(wecom.archive.fetches) > reread + 1)  # that pull finished, the next began
    assert channel_seq(runner) == 4
    await runner.stop(bot)
    after = _counts(runner)
    assert after == before
    # merged replies share a handoff: never more handoffs than outbox rows for the group
    assert after["messages"] == 4 and 0 < after["handoffs"] <= after["room_outbox"]


def _counts(runner: BotRunner) -> dict[str, int]:
    with runner.sessions() as session:
        return {
            "messages": _inbound(runner),
            "tickets": _count(runner.sessions, Ticket),
            "handoffs": _count(runner.sessions, Handoff),
            "undelivered": int(
                session.scalar(
                    select(func.count())
                    .select_from(Outbox)
                    .where(
                        Outbox.room_id == ROOM,
                        Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                    )
                )
                or 0
            ),
            "room_outbox": int(
                session.scalar(select(func.count()).select_from(Outbox).where(Outbox.room_id == ROOM)) or 0
            ),
        }


async def test_commands_by_dm_and_reminders_reach_staff_privately(wecom: WeCom, runner: BotRunner) -> None:
    bot = await runner.start()
    wecom.archive.post(ROOM, ZHANG, "3号楼电梯坏了，老人被困在楼上下不来，麻烦尽快派人修一下")
    await wecom.bot.wait_sent(to(WORKER, msgtype="template_card"))
    await wecom.bot.wait_sent(to(WORKER, "请在", "markdown"))  # the receipt's handoff
    mark = wecom.bot.mark()
    await wecom.bot.push_text(WORKER, "工单")
    listing = await wecom.bot.wait_sent(to(WORKER, "#1", "markdown"), after=mark)
    assert "请在" not in listing["body"]["markdown"]["content"]  # the command's answer, not a handoff
    # a wrong command gets the Chinese answer back, privately
    mark = wecom.bot.mark()
    await wecom.bot.push_text(WORKER, "接单 #999")
    refused = await wecom.bot.wait_sent(to(WORKER, "999", "markdown"), after=mark)
    assert "请在" not in refused["body"]["markdown"]["content"]
    # deadlines pass: the reminder goes to the gridworker privately, never as a handoff
    handoffs_before = _count(runner.sessions, Handoff)
    mark = wecom.bot.mark()
    await _sweep(bot, hours=30)
    reminder = await wecom.bot.wait_sent(
        lambda f: to(WORKER, "#1", "markdown")(f) or to(LEADER, "#1", "markdown")(f), after=mark
    )
    assert "请在" not in reminder["body"]["markdown"]["content"]
    assert _count(runner.sessions, Handoff) == handoffs_before
    assert not [f for f in wecom.bot.sent if f["body"].get("chatid") == ROOM]
    await runner.stop(bot)


async def test_reconnects_after_a_drop_and_a_wrong_secret_is_a_clear_error(
    wecom: WeCom, runner: BotRunner
) -> None:
    bot = await runner.start()
    await wecom.bot.drop()
    await wecom.bot.wait_connected(2, timeout=30)  # the SDK reconnects (backoff 1 s)
    await wecom.bot.push_text(WORKER, "帮助")
    await wecom.bot.wait_sent(to(WORKER, "接单", "markdown"))
    await runner.stop(bot)

    wrong = wecom.settings.model_copy(deep=True)
    wrong.wecom.bot_secret = type(wrong.wecom.bot_secret)("not-the-secret")  # type: ignore[misc]
    transport = WeComTransport(wrong, runner.sessions, login_timeout_s=5)

    async def nothing(*_: object) -> None:
        return None

    with pytest.raises(TransportError, match="BOT_SECRET"):
        await transport.start(nothing, nothing)
    assert wecom.bot.auth_failures >= 1


# ---- helpers -----------------------------------------------------------------------------------
def _one(sessions: sessionmaker[Session], stmt: Select[Any]) -> Any:
    with sessions() as session:
        row = session.scalars(stmt).first()
        if row is not None:
            session.expunge(row)
        return row


def _count(sessions: sessionmaker[Session], entity: Any) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(entity)) or 0)


def _inbound(runner: BotRunner) -> int:
    with runner.sessions() as session:
        stmt = select(func.count()).select_from(Message).where(Message.direction == MessageDirection.INBOUND)
        return int(session.scalar(stmt) or 0)


def channel_seq(runner: BotRunner) -> int:
    with runner.sessions() as session:
        return cursors.cursor(session, "wecom-archive").seq


async def _sweep(bot: Bot, hours: float) -> None:
    """Let `hours` pass for the deadlines (their times move back), then sweep now."""
    import anyio

    def shift() -> None:
        back = timedelta(hours=hours)
        with bot.runtime.sessions.begin() as session:
            for d in session.scalars(select(TicketDeadline)):
                d.started_at -= back
                d.warn_at, d.due_at = d.warn_at - back, d.due_at - back
                d.escalate1_at, d.escalate2_at = d.escalate1_at - back, d.escalate2_at - back
            # instants moved around the lifecycle: the next sweep reads them all (a full pass)
            session.execute(update(SweepWatermark).values(swept_to=None))

    await anyio.to_thread.run_sync(shift)
    await anyio.to_thread.run_sync(bot.runtime.sweep, utcnow())

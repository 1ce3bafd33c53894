"""The WeChat transport over the real gRPC path: python-wechaty ↔ a Node Wechaty puppet service."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gridbot.bot.transport import TransportError
from gridbot.handlers.types import OutgoingMessage
from gridbot.models.enums import MemberEventKind, MessageType
from tests.e2e.conftest import EVENT_TIMEOUT_S, BotSide, PuppetProcess, free_port, make_transport

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.anyio,
    # python-wechaty 0.10.7 imports deprecated modules (it is unmaintained since 2023).
    pytest.mark.filterwarnings("ignore:'telnetlib' is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:pyee.AsyncIOEventEmitter has been moved:DeprecationWarning"),
]

BOT, ZHANG, LIU, XIAOWANG, LI = "wxid_bot", "wxid_zhang", "wxid_liu", "wxid_xiaowang", "wxid_li"


async def test_logs_in_and_reports_status(bot_side: BotSide) -> None:
    status = bot_side.transport.status
    assert (status.connected, status.logged_in) == (True, True)
    assert (status.bot_id, status.bot_name) == (BOT, "网格助手")
    assert status.last_error is None


async def test_resident_message_arrives_with_mention_stripped(
    puppet: PuppetProcess, bot_side: BotSide
) -> None:
    sent_id = await puppet.say(ZHANG, "@网格助手\u20053号楼电梯又坏了，老人下不了楼", mentions=(BOT,))
    msg = await bot_side.next_message()
    assert msg.platform_id == sent_id
    assert (msg.room_id, msg.room_topic) == (puppet.room_id, "幸福里3号网格群")
    assert (msg.sender_id, msg.sender_name) == (ZHANG, "张阿姨")
    assert msg.text == "3号楼电梯又坏了，老人下不了楼"
    assert msg.mentions == (BOT,) and msg.mentions_bot
    assert msg.msg_type is MessageType.TEXT
    assert msg.sent_at.tzinfo is not None
    assert abs(datetime.now(UTC) - msg.sent_at) < timedelta(minutes=1)
    assert bot_side.transport.status.last_message_at is not None


async def test_mention_typed_as_text_counts_and_chatter_does_not(
    puppet: PuppetProcess, bot_side: BotSide
) -> None:
    await puppet.say(LIU, "@网格助手 小区东门的垃圾两天没人清了")  # no mention ids: only the text
    await puppet.say(ZHANG, "今天菜市场的菠菜挺新鲜")
    named, chatter = await bot_side.next_message(), await bot_side.next_message()
    assert (named.text, named.mentions_bot, named.mentions) == ("小区东门的垃圾两天没人清了", True, ())
    assert (chatter.text, chatter.mentions_bot) == ("今天菜市场的菠菜挺新鲜", False)


async def test_other_mentions_are_kept(puppet: PuppetProcess, bot_side: BotSide) -> None:
    await puppet.say(XIAOWANG, "@张阿姨 明天上午去看电梯", mentions=(ZHANG,))
    msg = await bot_side.next_message()
    assert (msg.text, msg.mentions, msg.mentions_bot) == ("@张阿姨 明天上午去看电梯", (ZHANG,), False)


async def test_quote_reply_is_split(puppet: PuppetProcess, bot_side: BotSide) -> None:
    quoted = "「网格助手：工单 #42 已转网格员小王」\n- - - - - - - - - - - - - - -\n好的，谢谢"
    await puppet.say(ZHANG, quoted)
    msg = await bot_side.next_message()
    assert (msg.text, msg.quoted_text) == ("好的，谢谢", "工单 #42 已转网格员小王")


async def test_send_with_mention_reaches_the_room(puppet: PuppetProcess, bot_side: BotSide) -> None:
    reply = OutgoingMessage(
        text="已收到，工单 #42 已转网格员小王", room_id=puppet.room_id, mention_ids=(ZHANG,)
    )
    message_id = await bot_side.transport.send(reply)
    said = await puppet.next_bot_said()
    assert said["id"] == message_id
    assert (said["room"], said["mentions"]) == (puppet.room_id, [ZHANG])
    assert said["text"].startswith("@张阿姨") and said["text"].endswith("已收到，工单 #42 已转网格员小王")


async def test_direct_message_to_a_contact(puppet: PuppetProcess, bot_side: BotSide) -> None:
    await bot_side.transport.send(OutgoingMessage(text="您有2条待确认工单", to_contact_id=XIAOWANG))
    said = await puppet.next_bot_said()
    assert (said["to"], said["room"], said["text"]) == (XIAOWANG, None, "您有2条待确认工单")


async def test_own_and_direct_messages_are_not_delivered(puppet: PuppetProcess, bot_side: BotSide) -> None:
    await bot_side.transport.send(OutgoingMessage(text="大家好", room_id=puppet.room_id))
    await puppet.next_bot_said()
    await puppet.say(LIU, "私聊一下", room="")  # to the bot directly, not in the room
    marker = await puppet.say(LIU, "群里说一句")
    assert (await bot_side.next_message()).platform_id == marker  # delivery keeps arrival order


async def test_image_arrives_as_attachment(puppet: PuppetProcess, bot_side: BotSide) -> None:
    event = await puppet.command("image", **{"from": ZHANG, "room": puppet.room_id, "name": "楼道.png"})
    msg = await bot_side.next_message()
    assert (msg.platform_id, msg.msg_type, msg.text) == (event["id"], MessageType.IMAGE, "[图片]")
    assert msg.attachment_path is not None
    assert Path(msg.attachment_path).read_bytes().startswith(b"\x89PNG")


async def test_join_and_leave_become_member_changes(puppet: PuppetProcess, bot_side: BotSide) -> None:
    await puppet.command("join", room=puppet.room_id, members=[LI], by=XIAOWANG)
    joined = await asyncio.wait_for(bot_side.member_changes.get(), EVENT_TIMEOUT_S)
    assert (joined.room_id, joined.kind, joined.members, joined.member_count) == (
        puppet.room_id,
        MemberEventKind.JOIN,
        ((LI, "李大爷"),),
        6,
    )
    await puppet.command("leave", room=puppet.room_id, members=[LI], by=XIAOWANG)
    left = await asyncio.wait_for(bot_side.member_changes.get(), EVENT_TIMEOUT_S)
    assert (left.kind, left.members, left.member_count) == (MemberEventKind.LEAVE, ((LI, "李大爷"),), 5)


async def test_round_trip_is_fast(puppet: PuppetProcess, bot_side: BotSide) -> None:
    started = time.monotonic()
    await puppet.say(ZHANG, "楼下水管漏水了")
    msg = await bot_side.next_message()
    await bot_side.transport.send(
        OutgoingMessage(text="收到", room_id=msg.room_id, mention_ids=(msg.sender_id,))
    )
    await puppet.next_bot_said()
    assert time.monotonic() - started < 1.0


async def test_burst_of_200_messages_all_arrive_in_order(puppet: PuppetProcess, bot_side: BotSide) -> None:
    senders = (ZHANG, LIU, XIAOWANG)
    pending = [
        await puppet.submit("say", **{"from": senders[i % 3], "text": f"第{i}条消息", "room": puppet.room_id})
        for i in range(200)
    ]
    sent_ids = [str((await event)["id"]) for event in pending]
    received = [await bot_side.next_message() for _ in range(200)]
    assert [m.platform_id for m in received] == sent_ids
    assert [m.text for m in received] == [f"第{i}条消息" for i in range(200)]
    assert bot_side.messages.empty()


async def test_wrong_token_is_a_clear_error(
    puppet: PuppetProcess, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    wrong = "wrong-token-7f3a9c"
    transport = make_transport(puppet.endpoint, wrong, tmp_path, login_timeout_s=5.0)
    started = time.monotonic()
    with pytest.raises(TransportError, match="rejected the token"):
        await transport.start(BotSide(transport).on_message, BotSide(transport).on_member_change)
    assert time.monotonic() - started < 5.0
    assert transport.status.logged_in is False and transport.status.last_error
    output = capfd.readouterr()
    assert wrong not in output.out + output.err  # python-wechaty logs the token; it must be redacted


async def test_unreachable_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    transport = make_transport(f"127.0.0.1:{free_port()}", "e2e-token", tmp_path, login_timeout_s=2.0)
    started = time.monotonic()
    with pytest.raises(TransportError, match="cannot reach the puppet service"):
        await transport.start(BotSide(transport).on_message, BotSide(transport).on_member_change)
    assert time.monotonic() - started < 2.0
    assert transport.status.connected is False


async def test_silent_endpoint_times_out_at_the_login_timeout(tmp_path: Path) -> None:
    writers: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read()  # holds the connection open until the client gives up

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = make_transport(f"127.0.0.1:{port}", "e2e-token", tmp_path, login_timeout_s=1.5)
    started = time.monotonic()
    async with server:
        with pytest.raises(TransportError, match="no login .* within 1.5 s"):
            await transport.start(BotSide(transport).on_message, BotSide(transport).on_member_change)
        elapsed = time.monotonic() - started
        for writer in writers:
            writer.close()
            await writer.wait_closed()
    assert 1.0 < elapsed < 1.5


async def test_server_restart_disconnects_then_reconnects(own_puppet: PuppetProcess, tmp_path: Path) -> None:
    side = BotSide(make_transport(own_puppet.endpoint, own_puppet.token, tmp_path))
    transport = side.transport
    await transport.start(side.on_message, side.on_member_change)
    try:
        await own_puppet.stop()
        await asyncio.wait_for(transport.disconnected.wait(), EVENT_TIMEOUT_S)
        assert (transport.status.connected, transport.status.logged_in) == (False, False)
        assert transport.status.last_error
        with pytest.raises(TransportError, match="not logged in"):
            await transport.send(OutgoingMessage(text="有人吗", room_id=own_puppet.room_id))

        await own_puppet.start()  # same port and token, a fresh Node process
        await asyncio.wait_for(transport.reconnected.wait(), EVENT_TIMEOUT_S)
        assert transport.status.logged_in and transport.status.connected
        sent_id = await own_puppet.say(ZHANG, "重连后还能收到吗")
        assert (await side.next_message()).platform_id == sent_id
        await transport.send(OutgoingMessage(text="能", room_id=own_puppet.room_id))
        assert (await own_puppet.next_bot_said())["text"] == "能"
    finally:
        await transport.stop()

"""The journal transport: what it accepted survives a kill; it follows its inbound file and resumes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from gridbot.bot.journal import CURSOR, HANDLED, INBOUND, SENT, JournalSink, JournalTransport, read_records
from gridbot.handlers.types import IncomingMessage, MemberChange, OutgoingMessage


@pytest.mark.anyio
async def test_the_journal_confirms_what_it_accepted_past_a_line_torn_by_a_kill(tmp_path: Path) -> None:
    sink = JournalSink(tmp_path)
    await sink.send(OutgoingMessage("收到", room_id="r@chatroom", outbox_ids=(1, 2)))
    with (tmp_path / SENT).open("a", encoding="utf-8") as fh:
        fh.write('{"outbox_ids": [3], "room": "r@chat')  # a predecessor killed mid-write
    restarted = JournalSink(tmp_path)
    await restarted.send(OutgoingMessage("已办结", room_id="r@chatroom", outbox_ids=(4,)))
    assert await restarted.confirm_delivered([1, 2, 3, 4, 5]) == {1, 2, 4}
    assert [r["outbox_ids"] for r in read_records(tmp_path / SENT)] == [[1, 2], [4]]


@pytest.mark.anyio
async def test_the_journal_transport_follows_the_file_and_resumes_after_its_cursor(tmp_path: Path) -> None:
    seen: list[str] = []
    arrived, wanted = anyio.Event(), [3]

    @dataclass
    class Done:
        status: str = "ticket"

    async def on_message(msg: IncomingMessage) -> Done:
        seen.append(msg.platform_id)
        if len(seen) == wanted[0]:
            arrived.set()
        return Done()

    async def on_member_change(change: MemberChange) -> None:
        return None

    def write(*ids: str, end: str = "\n") -> None:
        with (tmp_path / INBOUND).open("a", encoding="utf-8") as fh:
            for i in ids:
                fh.write(
                    f'{{"id": "{i}", "room": "r@chatroom", "sender": "wx-a", "text": "楼道灯坏了"}}' + end
                )

    transport = JournalTransport(tmp_path, poll_s=0.01)
    await transport.start(on_message, on_member_change)
    write("a", "b")
    write("c", end="")  # not yet terminated: not yet a message
    with (tmp_path / INBOUND).open("a", encoding="utf-8") as fh:
        fh.write("\n")
    with anyio.fail_after(5):
        await arrived.wait()
    await transport.stop()
    assert seen == ["a", "b", "c"]
    assert [r["id"] for r in read_records(tmp_path / HANDLED)] == ["a", "b", "c"]
    assert (tmp_path / CURSOR).exists()

    write("d")
    again = JournalTransport(tmp_path, poll_s=0.01)
    arrived, wanted[0] = anyio.Event(), 4
    await again.start(on_message, on_member_change)
    with anyio.fail_after(5):
        await arrived.wait()
    await again.stop()
    assert seen == ["a", "b", "c", "d"]  # the restarted transport began after its cursor

"""The local spool keeps messages in order across outages and crashes, and loses none."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gridbot.handlers.spool import Spool
from gridbot.handlers.types import IncomingMessage
from gridbot.models.enums import MessageType

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def msg(n: int, text: str = "楼道灯坏了") -> IncomingMessage:
    return IncomingMessage(
        f"m{n}", "room", "wx-zhang", "张阿姨", text, T0, MessageType.TEXT, mentions=("wx-wang",)
    )


def test_messages_come_back_whole_and_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.jsonl")
    originals = [msg(1), msg(2, "第二条\n带换行"), msg(3, "emoji 🚨")]
    for m in originals:
        spool.append(m)
    seen: list[IncomingMessage] = []
    assert spool.drain(lambda m: seen.append(m) is None) == 3
    assert seen == originals and len(spool) == 0


def test_drain_stops_where_the_database_fails_and_keeps_the_rest(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.jsonl")
    for n in range(5):
        spool.append(msg(n))
    taken: list[str] = []

    def handle(m: IncomingMessage) -> bool:
        if m.platform_id == "m2":
            spool.append(msg(9))  # arrives while draining: must stay after the rest
            return False
        taken.append(m.platform_id)
        return True

    assert spool.drain(handle) == 2
    rest: list[str] = []
    spool.drain(lambda m: rest.append(m.platform_id) is None)
    assert taken == ["m0", "m1"] and rest == ["m2", "m3", "m4", "m9"]


def test_a_torn_last_line_from_a_crash_is_ignored_and_healed(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    spool = Spool(path)
    spool.append(msg(1))
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"platform_id": "m2", "room_')  # killed mid-write: never acknowledged
    assert len(spool) == 1
    spool.append(msg(3))
    got: list[str] = []
    spool.drain(lambda m: got.append(m.platform_id) is None)
    assert got == ["m1", "m3"]


def test_an_unreadable_line_is_set_aside_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    spool = Spool(path)
    spool.append(msg(1))
    with path.open("a", encoding="utf-8") as fh:
        fh.write("not json\n")
    spool.append(msg(2))
    got: list[str] = []
    assert spool.drain(lambda m: got.append(m.platform_id) is None) == 3
    assert got == ["m1", "m2"]
    assert spool.rejected.read_text(encoding="utf-8") == "not json\n"

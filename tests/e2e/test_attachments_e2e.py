"""Photos end to end: `gridbot run --transport wechaty` against the Node puppet service stores a
resident's photo in the attachments directory (not the temp dir), links it to the report that
follows, and takes the gridworker's photo after 办结 as the 处置后照片."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.db import make_session_factory
from gridbot.models.entities import Attachment
from gridbot.models.enums import AttachmentRole, AttachmentStatus
from tests.e2e.conftest import PuppetProcess
from tests.e2e.test_bot_e2e import XIAOWANG, ZHANG, Said, bot_running, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


def _rows(sessions: sessionmaker[Session]) -> list[Attachment]:
    with sessions() as s:
        return list(s.scalars(select(Attachment).order_by(Attachment.id)))


async def test_photo_then_report_then_after_photo(puppet: PuppetProcess, tmp_path: Path) -> None:
    async with bot_running(puppet, tmp_path) as (bot, engine):
        sessions = make_session_factory(engine)
        said = Said(puppet, bot)
        await puppet.command(
            "image", **{"from": ZHANG, "room": puppet.room_id, "name": "3栋2单元张三家门口.png"}
        )
        await puppet.say(ZHANG, "3栋2单元楼道灯又坏了，晚上黑灯瞎火的")
        filed = await said.next()
        assert "工单 #" in filed["text"]
        number = int(filed["text"].split("工单 #")[1].split(" ")[0])

        def linked() -> list[Attachment] | None:
            rows = _rows(sessions)
            return rows if rows and rows[0].ticket_id == number else None

        [photo] = await eventually(linked, "the photo linked to the report", bot)
        assert (photo.role, photo.status, photo.content_type) == (
            AttachmentRole.REPORT,
            AttachmentStatus.STORED,
            "image/png",
        )
        stored = tmp_path / "gridbot-attachments" / (photo.sha256 or "")[:2] / (photo.sha256 or "")
        assert stored.read_bytes().startswith(b"\x89PNG")
        # the resident's file name is nowhere on disk, and the download is gone
        assert not [p for p in (tmp_path / "gridbot-attachments").rglob("*") if "张三" in p.name]
        assert not list((tmp_path / "gridbot-attachments" / "incoming").iterdir())

        await puppet.say(XIAOWANG, f"办结 #{number} 已更换灯泡")
        await said.next()
        await puppet.command("image", **{"from": XIAOWANG, "room": puppet.room_id})
        kept = await said.next()
        assert f"已将照片作为工单 #{number} 的处置后照片存档" in kept["text"]
        roles = [(r.ticket_id, r.role) for r in _rows(sessions)]
        assert roles == [(number, AttachmentRole.REPORT), (number, AttachmentRole.AFTER)]

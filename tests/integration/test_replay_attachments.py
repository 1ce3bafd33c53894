"""Replay: photos, files and voice as evidence — linked to reports, 处置后照片 on 办结, the closing policy,
limits with the reason recorded, and the retention purge of files and rows."""

from __future__ import annotations

import base64
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gridbot.bot.app import Runtime
from gridbot.models.attachments.store import FileStore
from gridbot.models.entities import Attachment, Message, Outbox
from gridbot.models.enums import AttachmentRole, AttachmentStatus, MessageStatus, MessageType, TicketStatus
from gridbot.models.settings import AttachmentSettings, RetentionSettings
from tests.integration.conftest import Group, Play, ticket

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LAMP = "3栋2单元楼道灯又坏了，晚上黑灯瞎火的"  # filed as 物业服务 (property)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def runtime(runtime: Runtime, tmp_path: Path) -> Runtime:
    """The replay runtime with its attachments directory in the test's folder and a 2 KiB limit."""
    settings = AttachmentSettings(dir=tmp_path / "attachments", max_bytes=2048)
    runtime.settings = runtime.settings.model_copy(update={"attachments": settings})
    return runtime


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Files a resident's phone might send: photos, a document too large, a script, a voice clip."""
    made = {
        "photo": PNG,
        "photo2": PNG + b"\x00",  # another photo (other bytes, other hash)
        "after": PNG + b"\x00\x01",
        "huge": b"\xff\xd8\xff\xe0" + b"\x00" * 4096,
        "script": b"#!/bin/sh\nrm -rf /\n",
        "voice": b"\x02#!SILK_V3" + b"\x01" * 64,
    }
    folder = tmp_path / "phone"
    folder.mkdir()
    for name, data in made.items():
        (folder / name).write_bytes(data)
    return {name: str(folder / name) for name in made}


def _rows(group: Group) -> list[Attachment]:
    with group.runtime.sessions() as s:
        return list(s.scalars(select(Attachment).order_by(Attachment.id)))


def _require_photo(runtime: Runtime) -> None:
    runtime.policy = dataclasses.replace(runtime.policy, photo_required=frozenset({"property"}))


async def test_a_photo_then_a_report_is_evidence_of_the_ticket(
    play: Play, group: Group, files: dict[str, str]
) -> None:
    _, replay = await play(
        [
            {"name": "张阿姨", "text": "[图片]", "attachment": files["photo"]},
            {"id": "r1", "name": "张阿姨", "text": LAMP},
            {"name": "张阿姨", "text": "[图片]", "attachment": files["photo2"]},
            {"name": "刘师傅", "text": "[图片]", "attachment": files["after"]},  # someone else: not evidence
        ]
    )
    number = replay.tickets["r1"]
    rows = _rows(group)
    assert [(r.ticket_id, r.role, r.status) for r in rows] == [
        (number, AttachmentRole.REPORT, AttachmentStatus.STORED),
        (number, AttachmentRole.REPORT, AttachmentStatus.STORED),
        (None, None, AttachmentStatus.STORED),
    ]
    store = FileStore(group.runtime.settings.attachments)
    assert store.path_of(rows[0].sha256 or "").read_bytes() == PNG
    # no name a resident chose, nothing left behind in incoming/
    assert all(p.name in (r.sha256 for r in rows) for p in store.root.glob("??/*"))
    assert list(store.incoming.iterdir()) == []
    with group.runtime.sessions() as s:
        photos = s.scalars(select(Message).where(Message.msg_type == MessageType.IMAGE).order_by(Message.id))
        assert [m.ticket_id for m in photos] == [number, number, None]


async def test_a_photo_long_before_the_report_stays_unlinked(
    play: Play, group: Group, files: dict[str, str]
) -> None:
    _, replay = await play(
        [
            {"name": "张阿姨", "text": "[图片]", "attachment": files["photo"]},
            {"id": "r1", "name": "张阿姨", "text": LAMP, "t": timedelta(minutes=30)},
        ]
    )
    assert replay.tickets["r1"]
    assert [r.ticket_id for r in _rows(group)] == [None]


async def test_a_photo_quote_replying_the_ticket_message_joins_it(
    play: Play, group: Group, files: dict[str, str]
) -> None:
    _, replay = await play([{"id": "r1", "name": "张阿姨", "text": LAMP}])
    number = replay.tickets["r1"]
    await play(
        [
            {
                "name": "张阿姨",
                "text": "[图片]",
                "attachment": files["photo"],
                "quote": "已收到您反映的【物业服务】问题，工单 #{r1} 已转网格员小王",
                "t": timedelta(hours=2),
            }
        ]
    )
    assert [(r.ticket_id, r.role) for r in _rows(group)] == [(number, AttachmentRole.REPORT)]


async def test_a_photo_right_after_banjie_is_the_after_photo(
    play: Play, group: Group, files: dict[str, str]
) -> None:
    number = await group.report(LAMP)
    await group.say("小王", f"办结 #{number} 灯泡已更换")
    said = await group.say("小王", "[图片]", attachment=files["after"])
    assert f"已将照片作为工单 #{number} 的处置后照片存档" in said
    rows = _rows(group)
    assert [(r.ticket_id, r.role, r.kind) for r in rows] == [
        (number, AttachmentRole.AFTER, MessageType.IMAGE)
    ]


async def test_policy_blocks_banjie_without_a_photo_then_allows_it_with_one(
    play: Play, group: Group, files: dict[str, str]
) -> None:
    _require_photo(group.runtime)
    group.replay.conversation.policy = group.runtime.policy
    number = await group.report(LAMP)
    said = await group.say("小王", f"办结 #{number} 灯泡已更换")
    assert f"工单 #{number}（物业服务）办结前需要一张处置后照片" in said
    with group.runtime.sessions() as s:
        assert ticket(s, number).status is TicketStatus.NEW
    await group.say("小王", "[图片]", attachment=files["after"])  # the photo first, then 办结
    said = await group.say("小王", f"办结 #{number} 灯泡已更换")
    assert "办结前需要" not in said
    with group.runtime.sessions() as s:
        assert ticket(s, number).status is TicketStatus.RESOLVED
    assert [(r.ticket_id, r.role) for r in _rows(group)] == [(number, AttachmentRole.AFTER)]


async def test_a_residents_photo_is_not_an_after_photo(
    play: Play, group: Group, files: dict[str, str]
) -> None:
    _require_photo(group.runtime)
    group.replay.conversation.policy = group.runtime.policy
    number = await group.report(LAMP)
    await group.say("张阿姨", "[图片]", attachment=files["photo"])  # evidence of the report, not of the work
    said = await group.say("小王", f"办结 #{number} 灯泡已更换")
    assert "办结前需要一张处置后照片" in said


async def test_oversized_and_forbidden_files_are_refused_with_a_reason_and_the_message_kept(
    play: Play, group: Group, files: dict[str, str]
) -> None:
    _, replay = await play(
        [
            {"id": "r1", "name": "张阿姨", "text": LAMP},
            {"name": "张阿姨", "text": "[图片]", "attachment": files["huge"]},
            {"name": "张阿姨", "text": "[文件]", "attachment": files["script"]},
            {"name": "张阿姨", "text": "[图片]"},  # the platform delivered no file
        ]
    )
    rows = _rows(group)
    assert [(r.status, r.reason, r.sha256) for r in rows] == [
        (AttachmentStatus.REFUSED, "too_large", None),
        (AttachmentStatus.REFUSED, "type_not_allowed", None),
        (AttachmentStatus.MISSING, "not_delivered", None),
    ]
    assert {r.ticket_id for r in rows} == {replay.tickets["r1"]}  # still shown on the ticket, with why
    store = FileStore(group.runtime.settings.attachments)
    assert not list(store.root.glob("??/*"))
    with group.runtime.sessions() as s:
        kept = s.scalars(select(Message).where(Message.msg_type != MessageType.TEXT)).all()
        assert [m.status for m in kept] == [MessageStatus.PROCESSED] * 3


async def test_a_path_outside_incoming_is_never_read(group: Group, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    taken = FileStore(group.runtime.settings.attachments).take(str(secret))
    assert (taken.sha256, taken.reason) == (None, "not_delivered")
    taken = FileStore(group.runtime.settings.attachments).take("/nonexistent/../../etc/passwd")
    assert taken.reason == "not_delivered"


async def test_voice_is_kept_and_flagged_for_the_gridworkers(
    play: Play, group: Group, files: dict[str, str]
) -> None:
    sent, replay = await play(
        [
            {"id": "r1", "name": "张阿姨", "text": LAMP},
            {"name": "张阿姨", "text": "[语音]", "attachment": files["voice"]},
        ]
    )
    number = replay.tickets["r1"]
    [row] = _rows(group)
    assert (row.kind, row.content_type, row.ticket_id, row.needs_listening) == (
        MessageType.VOICE,
        "audio/silk",
        number,
        True,
    )
    assert row.transcript_masked is None  # no transcription command configured: nothing transcribed
    private = [m for m in sent if m.to_contact_id and "语音待听" in m.text]
    assert {m.to_contact_id for m in private} >= {"wx-wang"}
    assert all(f"#{number}" in m.text for m in private)


async def test_voice_is_transcribed_by_the_operators_local_command(
    play: Play, group: Group, files: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "stt.sh"
    script.write_text("#!/bin/sh\necho '我家电话13812345678，楼道灯坏了'\n")
    script.chmod(0o755)
    settings = group.runtime.settings.attachments.model_copy(update={"transcribe_command": str(script)})
    from gridbot.models.attachments.kit import AttachmentKit

    group.replay.conversation.attachments = AttachmentKit.from_settings(settings)
    await play([{"name": "张阿姨", "text": "[语音]", "attachment": files["voice"]}])
    [row] = _rows(group)
    assert row.transcript_masked is not None and "楼道灯坏了" in row.transcript_masked
    assert "13812345678" not in row.transcript_masked


async def test_retention_purge_deletes_old_files_and_rows(
    play: Play, group: Group, files: dict[str, str]
) -> None:
    await play(
        [
            {"id": "r1", "name": "张阿姨", "text": LAMP},
            {"name": "张阿姨", "text": "[图片]", "attachment": files["photo"]},
            {"name": "刘师傅", "text": "[图片]", "attachment": files["photo2"], "t": timedelta(days=20)},
        ]
    )
    store = FileStore(group.runtime.settings.attachments)
    old, new = _rows(group)
    runtime = group.runtime
    runtime.settings = runtime.settings.model_copy(
        update={"retention": RetentionSettings(attachment_days=10)}
    )
    deleted = runtime.purge_attachments(group.clock.now)
    assert deleted == 1
    assert not store.path_of(old.sha256 or "").exists()
    assert store.path_of(new.sha256 or "").read_bytes() == files_bytes(files["photo2"])
    assert [r.id for r in _rows(group)] == [new.id]
    with runtime.sessions() as s:  # the message rows stay (counts do not move)
        assert (
            s.scalar(select(func.count()).select_from(Message).where(Message.msg_type == MessageType.IMAGE))
            == 2
        )
        assert s.scalar(select(func.count()).select_from(Outbox)) is not None
    assert runtime.purge_attachments(group.clock.now) == 0  # idempotent


def files_bytes(path: str) -> bytes:
    """The bytes of a test file."""
    return Path(path).read_bytes()

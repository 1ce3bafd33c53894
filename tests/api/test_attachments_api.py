"""Attachments over HTTP: served only in scope (401/403), with safe headers; uploads refused with a
reason; the closing policy obeyed by the API and the work page as by chat."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.api.routers.work import WORK_COOKIE
from gridbot.models.entities import Attachment, utcnow
from gridbot.models.enums import AttachmentRole, AttachmentStatus, MessageType
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.org.web_sessions import issue_worker_link, redeem_worker_link
from gridbot.models.settings import AttachmentSettings
from tests.api.conftest import Seeded, Tokens, api_settings, open_client
from tests.conftest import World

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
async def app_client(any_engine: Engine, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its attachments in the test's folder (4 KiB limit) and environment (category
    of the seeded tickets) needing a 处置后照片 before 办结."""
    settings = api_settings(any_engine).model_copy(
        update={"attachments": AttachmentSettings(dir=tmp_path / "att", max_bytes=4096)}
    )
    app = create_app(settings, engine=any_engine, coordinator=LocalCoordinator(), limiter=LocalRateLimiter())
    async for client in open_client(app):
        services = app.state.services
        services.policy = dataclasses.replace(services.policy, photo_required=frozenset({"environment"}))
        yield client


async def _upload(
    client: httpx.AsyncClient, number: int, data: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(
        f"/tickets/{number}/attachments", content=data, headers={**headers, "Content-Type": "image/png"}
    )


async def test_a_photo_is_served_in_scope_with_safe_headers(
    app_client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded
) -> None:
    r = await _upload(app_client, seeded.mine, PNG, tokens.community)
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    listed = await app_client.get(f"/tickets/{seeded.mine}/attachments", headers=tokens.street)
    assert [(a["id"], a["role"], a["kind"]) for a in listed.json()] == [(aid, "after", "image")]
    got = await app_client.get(f"/attachments/{aid}", headers=tokens.city)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in got.headers["cache-control"]
    assert got.headers["content-disposition"] == f'inline; filename="attachment-{aid}.png"'
    assert "sandbox" in got.headers["content-security-policy"]


async def test_out_of_scope_tokens_get_403_and_no_token_401(
    app_client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded
) -> None:
    aid = (await _upload(app_client, seeded.mine, PNG, tokens.community)).json()["id"]
    assert (await app_client.get(f"/attachments/{aid}", headers=tokens.other_community)).status_code == 403
    assert (
        await app_client.get(f"/tickets/{seeded.mine}/attachments", headers=tokens.other_community)
    ).status_code == 403
    assert (await _upload(app_client, seeded.mine, PNG, tokens.other_community)).status_code == 403
    assert (await app_client.get(f"/attachments/{aid}")).status_code == 401
    assert (
        await app_client.get(f"/attachments/{aid}", headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    assert (await _upload(app_client, seeded.mine, PNG, {})).status_code == 401
    assert (await app_client.get("/attachments/999999", headers=tokens.city)).status_code == 404


async def test_refused_uploads_say_why_and_are_recorded(
    app_client: httpx.AsyncClient,
    tokens: Tokens,
    seeded: Seeded,
    session_factory: sessionmaker[Session],
) -> None:
    script = await _upload(app_client, seeded.mine, b"<script>alert(1)</script>", tokens.community)
    assert (script.status_code, script.json()["code"]) == (422, "attachment_type_not_allowed")
    assert "文件类型不在允许范围内" in script.json()["detail"]
    huge = await _upload(app_client, seeded.mine, b"\xff\xd8\xff\xe0" + b"\x00" * 5000, tokens.community)
    assert (huge.status_code, huge.json()["code"]) == (422, "attachment_too_large")
    with session_factory() as s:
        rows = s.scalars(select(Attachment).order_by(Attachment.id)).all()
        assert [(r.status, r.reason, r.ticket_id, r.sha256) for r in rows] == [
            (AttachmentStatus.REFUSED, "type_not_allowed", seeded.mine, None),
            (AttachmentStatus.REFUSED, "too_large", seeded.mine, None),
        ]
    refused = rows[0].id
    assert (await app_client.get(f"/attachments/{refused}", headers=tokens.community)).status_code == 404


async def test_the_api_obeys_the_closing_policy(
    app_client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded
) -> None:
    blocked = await app_client.post(
        f"/tickets/{seeded.mine}/resolve", json={"note": "已清理"}, headers=tokens.community
    )
    assert (blocked.status_code, blocked.json()["code"]) == (409, "photo_required")
    assert "办结前需要一张处置后照片" in blocked.json()["detail"]
    assert (await _upload(app_client, seeded.mine, PNG, tokens.community)).status_code == 201
    done = await app_client.post(
        f"/tickets/{seeded.mine}/resolve", json={"note": "已清理"}, headers=tokens.community
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"


async def test_the_work_page_uploads_a_photo_then_closes(
    app_client: httpx.AsyncClient,
    world: World,
    seeded: Seeded,
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as s:
        cookie, _ = redeem_worker_link(s, issue_worker_link(s, world.worker, utcnow()), utcnow())
    app_client.cookies.set(WORK_COOKIE, cookie)
    blocked = await app_client.post(f"/work/api/tickets/{seeded.mine}/resolve", json={"note": "已清理"})
    assert blocked.status_code == 409 and "处置后照片" in blocked.json()["detail"]
    up = await app_client.post(
        f"/work/api/tickets/{seeded.mine}/photos", content=PNG, headers={"Content-Type": "image/png"}
    )
    assert up.status_code == 201, up.text
    page = (await app_client.get(f"/work/api/tickets/{seeded.mine}")).json()
    assert [(a["role"], a["status"]) for a in page["attachments"]] == [("after", "stored")]
    assert (await app_client.get(f"/work/api/attachments/{up.json()['id']}")).content == PNG
    done = await app_client.post(f"/work/api/tickets/{seeded.mine}/resolve", json={"note": "已清理"})
    assert done.status_code == 200, done.text
    # another community's ticket is not this gridworker's
    other = await app_client.post(
        f"/work/api/tickets/{seeded.other}/photos", content=PNG, headers={"Content-Type": "image/png"}
    )
    assert other.status_code == 403
    with session_factory() as s:
        assert (
            s.scalar(select(Attachment.role).where(Attachment.ticket_id == seeded.mine))
            is AttachmentRole.AFTER
        )


async def test_a_gridworker_marks_a_voice_message_heard(
    app_client: httpx.AsyncClient,
    world: World,
    seeded: Seeded,
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as s:
        voices = []
        for number, grid in ((seeded.mine, world.grid), (seeded.other, world.other_grid)):
            row = Attachment(
                ticket_id=number,
                grid_id=grid,
                kind=MessageType.VOICE,
                status=AttachmentStatus.STORED,
                content_type="audio/silk",
                sha256="0" * 64,
                needs_listening=True,
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            voices.append(row.id)
        cookie, _ = redeem_worker_link(s, issue_worker_link(s, world.worker, utcnow()), utcnow())
    app_client.cookies.set(WORK_COOKIE, cookie)
    page = (await app_client.get(f"/work/api/tickets/{seeded.mine}")).json()
    assert [(a["kind"], a["needs_listening"]) for a in page["attachments"]] == [("voice", True)]
    assert (await app_client.post(f"/work/api/attachments/{voices[0]}/heard")).status_code == 204
    assert (await app_client.post(f"/work/api/attachments/{voices[1]}/heard")).status_code == 403
    with session_factory() as s:
        flags = [s.get(Attachment, i).needs_listening for i in voices]  # type: ignore[union-attr]
    assert flags == [False, True]

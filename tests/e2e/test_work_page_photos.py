"""The work page in headless Chromium: a category that needs a 处置后照片 cannot be closed without one;
the gridworker takes the photo on the phone, sees it on the ticket, then closes it. Over PostgreSQL.
Screenshot: test-artifacts/work-photo.png."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.models.entities import Ticket, utcnow
from gridbot.models.enums import Priority, TicketKind, TicketStatus
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.org.web_sessions import issue_worker_link
from gridbot.models.settings import AttachmentSettings
from gridbot.models.tickets import service as tickets
from gridbot.models.tickets.sla import load_policy
from tests.api.conftest import api_settings
from tests.conftest import build_world
from tests.e2e.test_dashboard import ARTIFACTS, browser, no_horizontal_scroll, serve

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
__all__ = ["browser"]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@dataclass
class Desk:
    base: str
    code: str
    lamp: int


@pytest.fixture
def desk(pg_engine: Engine, pg_session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Desk]:
    """The work page on an app whose policy needs a 处置后照片 for 物业服务, with one such ticket."""
    now = utcnow()
    with pg_session_factory.begin() as s:
        w = build_world(s)
        lamp = tickets.open_ticket(
            s, grid_id=w.grid, kind=TicketKind.INCIDENT, category="property", category_label="物业服务",
            priority=Priority.NORMAL, text="3栋楼道灯坏了", text_masked="3栋楼道灯坏了",
            reporter_id=w.resident, now=now, policy=load_policy(),
        ).id  # fmt: skip
        code = issue_worker_link(s, w.worker, now)
    settings = api_settings(pg_engine).model_copy(
        update={"attachments": AttachmentSettings(dir=tmp_path / "attachments")}
    )
    app = create_app(settings, engine=pg_engine, coordinator=LocalCoordinator(), limiter=LocalRateLimiter())
    for base in serve(app):
        services = app.state.services
        services.policy = dataclasses.replace(services.policy, photo_required=frozenset({"property"}))
        yield Desk(base, code, lamp)


def test_a_photo_on_the_phone_lets_the_gridworker_close(
    desk: Desk, browser: Any, pg_session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{desk.base}/work#code={desk.code}")
    page.wait_for_selector(f"#mine li[data-t='{desk.lamp}']", timeout=20_000)
    page.click(f"#mine li[data-t='{desk.lamp}']")
    page.wait_for_selector("#ticket textarea", timeout=20_000)
    page.fill("#note", "已更换灯泡")
    page.click("#ticket button[data-do=resolve]")
    page.wait_for_selector("#status.error", timeout=20_000)
    assert "办结前需要一张处置后照片" in page.inner_text("#status")

    photo = tmp_path / "after.png"
    photo.write_bytes(PNG)
    page.set_input_files("#photo", str(photo))
    page.wait_for_selector("#status:has-text('处置后照片已上传')", timeout=20_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('#ticket img.thumb'); return i && i.complete && i.naturalWidth > 0; }",
        timeout=20_000,
    )
    page.fill("#note", "已更换灯泡")
    page.click("#ticket button[data-do=resolve]")
    page.wait_for_selector("#ticket .trail >> text=已更换灯泡", timeout=20_000)
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "work-photo.png"), full_page=True)
    with pg_session_factory() as s:
        t = s.get(Ticket, desk.lamp)
        assert t is not None and t.status is TicketStatus.RESOLVED

"""The sidebar (/wecom/sidebar) in headless Chromium: the WeCom client's JS-SDK is a stand-in (the
fake Tencent side), the API runs in uvicorn on PostgreSQL, qyapi is the fake. The gridworker sees
the group's waiting reply, taps 发送 (the text goes to `sendChatMessage`) and 接单 on a ticket."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.models.db import make_session_factory
from gridbot.models.entities import Grid, Outbox, Ticket, utcnow
from gridbot.models.enums import OutboxKind, Priority, TicketKind, TicketStatus
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.messaging.outbox import enqueue
from gridbot.models.settings import SLASettings, WeComSettings
from gridbot.models.tickets import handoffs
from gridbot.models.tickets import service as tickets
from gridbot.models.tickets.sla import load_policy_for
from tests.api.conftest import api_settings
from tests.e2e.conftest import free_port, unavailable
from tests.e2e.wecom.conftest import APP_SECRET, CORP, ROOM, WORKER, ZHANG, grid_world
from tests.e2e.wecom.fakes import FakeQyApi

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

# the WeCom client's JS bridge, as the page calls it: agentConfig, getCurExternalChat, sendChatMessage
FAKE_CLIENT = """
window.__sent = []; window.__config = null;
window.wx = {
  agentConfig: function (cfg) { window.__config = cfg; cfg.success({}); },
  invoke: function (name, args, cb) {
    if (name === "getCurExternalChat") { cb({ err_msg: "getCurExternalChat:ok", chatId: "ROOM_ID" }); return; }
    if (name === "sendChatMessage") { window.__sent.push(args); cb({ err_msg: "sendChatMessage:ok" }); return; }
    cb({ err_msg: name + ":fail" });
  }
};
Object.defineProperty(window, "wx", { writable: false, value: window.wx });
""".replace("ROOM_ID", ROOM)


def seed(sessions: sessionmaker[Session]) -> tuple[int, str]:
    """Grid G001's external group, one new ticket and its receipt waiting as a handoff."""
    grid_world(sessions)
    now = utcnow()
    with sessions.begin() as session:
        grid = session.scalars(select(Grid)).one()
        ticket = tickets.open_ticket(
            session,
            grid_id=grid.id,
            kind=TicketKind.INCIDENT,
            category="property",
            category_label="物业服务",
            priority=Priority.NORMAL,
            text="3号楼电梯坏了",
            text_masked="3号楼电梯坏了",
            reporter_id=None,
            now=now,
            policy=load_policy_for(SLASettings()),
        )
        text = f"已收到您反映的【物业服务】问题，工单 {ticket.number} 已转网格员小王"
        row = enqueue(
            session,
            dedupe_key="t:1",
            kind=OutboxKind.REPLY,
            text=text,
            now=now,
            room_id=ROOM,
            ticket_id=ticket.id,
        )
        handoffs.create(
            session,
            outbox_ids=[row.id],
            room_id=ROOM,
            text=text,
            kind="reply",
            ticket_id=ticket.id,
            assignee_platform_id=WORKER,
            now=now,
        )
        return ticket.id, text


@pytest.fixture
def server(pg_engine: Engine) -> Iterator[tuple[str, FakeQyApi]]:
    api = FakeQyApi(CORP, {APP_SECRET}, codes={"code-wang": WORKER, "code-zhang": ZHANG})
    api.start()
    settings = api_settings(pg_engine)
    settings.wecom = WeComSettings(corp_id=CORP, agent_id=1000002, app_secret=APP_SECRET, api_base=api.url)
    app = create_app(settings, engine=pg_engine, coordinator=LocalCoordinator(), limiter=LocalRateLimiter())
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", api
    srv.should_exit = True
    thread.join(10)
    api.stop()


def test_sidebar_sends_the_waiting_reply_and_accepts(
    server: tuple[str, FakeQyApi], pg_engine: Engine, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    sessions = make_session_factory(pg_engine)
    number, text = seed(sessions)
    base, _api = server
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        try:
            page = browser.new_page()
            # the WeCom client provides the JS-SDK; the page's own script tags for it go nowhere here
            page.route("https://**/*", lambda route: route.abort())
            page.add_init_script(FAKE_CLIENT)
            page.goto(f"{base}/wecom/sidebar?code=code-wang")
            page.wait_for_selector(f"[data-handoff] >> text={text}", timeout=20_000)
            config = page.evaluate("window.__config")
            assert (config["corpid"], config["agentid"]) == (CORP, 1000002) and len(config["signature"]) == 40
            assert page.inner_text("#topic") == "五台山一网格居民群"
            page.click("[data-handoff] >> text=发送")
            page.wait_for_selector("[data-handoff] >> text=已发送")
            sent = page.evaluate("window.__sent")
            assert sent == [{"msgtype": "text", "enterChat": True, "text": {"content": text}}]
            page.click(f"[data-ticket='#{number}'] >> text=接单")
            page.wait_for_selector("#status >> text=已受理", timeout=20_000)
        finally:
            browser.close()
    with sessions() as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None and ticket.status is TicketStatus.ACCEPTED
        # the acceptance notice waits in the outbox for the group: the bot will hand it off
        assert session.scalar(select(Outbox).where(Outbox.kind == OutboxKind.NOTICE, Outbox.room_id == ROOM))
        assert ticket.first_response_at is None  # not seen by the resident yet


def test_sidebar_refuses_a_resident_and_a_bad_session(
    server: tuple[str, FakeQyApi], pg_engine: Engine
) -> None:
    import httpx

    seed(make_session_factory(pg_engine))
    base, _ = server
    with httpx.Client(base_url=base) as http:
        assert http.get("/wecom/sidebar/api/session", params={"code": "nope"}).status_code == 401
        assert (
            http.get("/wecom/sidebar/api/session", params={"code": "code-zhang"}).status_code == 403
        )  # not staff
        assert (
            http.get(f"/wecom/sidebar/api/chat/{ROOM}", headers={"Authorization": "Bearer x|1|y"}).status_code
            == 401
        )
        token = http.get("/wecom/sidebar/api/session", params={"code": "code-wang"}).json()["token"]
        forged = token.rsplit("|", 1)[0] + "|" + "0" * 64
        assert (
            http.get(
                f"/wecom/sidebar/api/chat/{ROOM}", headers={"Authorization": f"Bearer {forged}"}
            ).status_code
            == 401
        )
        ok = http.get(f"/wecom/sidebar/api/chat/{ROOM}", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and json.loads(ok.text)["handoffs"][0]["ticket"] == "#1"
        other = http.get(
            "/wecom/sidebar/api/chat/wrSomeOtherGroup", headers={"Authorization": f"Bearer {token}"}
        )
        assert other.status_code == 404

"""The gridworkers' work page in headless Chromium on a phone viewport, over PostgreSQL.

小王 (a gridworker of G001) signs in with the one-time link the bot would send him privately (the
code in the #fragment leaves the address bar at once and cannot be used twice), sees the open
tickets of his grid most urgent first, replies to one and resolves it through the same lifecycle as
the chat commands, confirms a report waiting in the 待确认 list, and reads this week's numbers.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.models.entities import Outbox, Ticket, TicketEvent, utcnow
from gridbot.models.enums import Priority, TicketKind, TicketStatus
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.org.web_sessions import issue_worker_link
from gridbot.models.tickets import service as tickets
from gridbot.models.tickets.sla import load_policy
from tests.api.conftest import api_settings
from tests.conftest import World, build_world
from tests.e2e.test_dashboard import ARTIFACTS, browser, no_horizontal_scroll, serve

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
__all__ = ["browser"]  # the Chromium fixture, shared with the dashboard tests


@dataclass
class Desk:
    base: str
    code: str
    world: World
    lamp: int
    urgent: int
    unsure: int
    other_grid: int


def _file(s: Session, w: World, grid: int, text: str, **kw: Any) -> int:
    t = tickets.open_ticket(
        s, grid_id=grid, kind=TicketKind.INCIDENT, category="property", category_label="物业服务",
        priority=kw.pop("priority", Priority.NORMAL), text=text, text_masked=text, reporter_id=w.resident,
        now=kw.pop("now", utcnow()), policy=load_policy(), **kw,
    )  # fmt: skip
    return t.id


@pytest.fixture
def desk(pg_engine: Engine, pg_session_factory: sessionmaker[Session]) -> Iterator[Desk]:
    now = utcnow()
    with pg_session_factory.begin() as s:
        w = build_world(s)
        lamp = _file(s, w, w.grid, "3栋楼道灯坏了", now=now - timedelta(minutes=30))
        urgent = _file(
            s, w, w.grid, "2栋门口燃气味很重", priority=Priority.URGENT, now=now - timedelta(minutes=5)
        )
        unsure = _file(s, w, w.grid, "小区里好像有点吵", needs_review=True)
        other = _file(s, w, w.other_grid, "别的网格的事")
        code = issue_worker_link(s, w.worker, now)
    app = create_app(
        api_settings(pg_engine), engine=pg_engine, coordinator=LocalCoordinator(), limiter=LocalRateLimiter()
    )
    for base in serve(app):
        yield Desk(base, code, w, lamp, urgent, unsure, other)


def test_gridworker_works_tickets_on_a_phone(
    desk: Desk, browser: Any, pg_session_factory: sessionmaker[Session]
) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{desk.base}/work#code={desk.code}")
    page.wait_for_selector("#status:has-text('待办 2 件')", timeout=20_000)
    assert desk.code not in page.url  # the one-time code left the address bar
    [cookie] = [c for c in browser.cookies() if c["name"] == "gridbot_work"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # most urgent first; the other grid's ticket and the 待确认 one are not in this list
    numbers = page.eval_on_selector_all("#mine li[data-t]", "els => els.map(e => Number(e.dataset.t))")
    assert numbers == [desk.urgent, desk.lamp]
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "work-mine.png"), full_page=True)

    # open the lamp ticket, reply, then resolve with a note
    page.click(f"#mine li[data-t='{desk.lamp}']")
    page.wait_for_selector("#ticket textarea", timeout=20_000)
    page.fill("#note", "师傅下午三点到")
    page.click("#ticket button[data-do=reply]")
    page.wait_for_selector("#ticket .trail >> text=师傅下午三点到", timeout=20_000)
    page.fill("#note", "已更换灯泡")
    page.click("#ticket button[data-do=resolve]")
    page.wait_for_selector("#ticket .trail >> text=已更换灯泡", timeout=20_000)
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "work-ticket.png"), full_page=True)
    with pg_session_factory() as s:
        t = s.get(Ticket, desk.lamp)
        assert t is not None and t.status is TicketStatus.RESOLVED and t.first_response_at is not None
        actions = list(s.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == desk.lamp)))
        assert actions == ["create", "respond", "resolve"]
        # the same announcements as the chat commands: the reply relayed, the rating asked for
        sent = list(s.scalars(select(Outbox.text).where(Outbox.ticket_id == desk.lamp)))
        assert any("师傅下午三点到" in x for x in sent) and any("请对本次处理评价" in x for x in sent)
    # a lifecycle refusal comes back in Chinese: a resolved ticket cannot be suspended
    page.fill("#note", "等配件")
    page.click("#ticket button[data-do=suspend]")
    page.wait_for_selector("#status.error", timeout=20_000)
    assert "工单" in page.inner_text("#status")
    page.go_back()
    page.wait_for_selector("#status:has-text('待办 1 件')", timeout=20_000)

    # the 待确认 list: confirm the unsure report (接单)
    page.click("#tabs a[data-tab=review]")
    page.wait_for_selector(f"#review li[data-t='{desk.unsure}']", timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "work-review.png"), full_page=True)
    page.click(f"#review li[data-t='{desk.unsure}'] button[data-do=accept]")
    page.wait_for_selector("#review >> text=没有待确认的工单", timeout=20_000)
    with pg_session_factory() as s:
        t = s.get(Ticket, desk.unsure)
        assert t is not None and t.status is TicketStatus.ACCEPTED and not t.needs_review

    # this week's numbers: 3 received in G001; the lamp answered in time, the unsure one signed for
    page.click("#tabs a[data-tab=stats]")
    page.wait_for_selector("#stats >> text=五台山第一网格 本周", timeout=20_000)
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "work-stats.png"), full_page=True)

    # the work page cannot reach another grid's ticket
    r = page.request.get(f"{desk.base}/work/api/tickets/{desk.other_grid}")
    assert r.status == 403

    # the link is single-use: a second browser gets a Chinese refusal
    second = browser.new_page()
    second.context.clear_cookies()
    second.goto(f"{desk.base}/work#code={desk.code}")
    second.wait_for_selector("#signin-error:has-text('登录码无效或已使用')", timeout=20_000)

"""The dashboard in headless Debian Chromium: uvicorn on a free loopback port over the hand-counted
fixture (PostgreSQL, tests/integration/test_metrics.py), signed in through the form with a street
admin's token (never in the URL), then: the fixture's numbers, drill-down by URL and by click with
Back, a date change that keeps the drill-down, a reversed range in Chinese, ticket filters, the
ticket page, CSV and XLSX downloads, the map, a phone viewport without horizontal scroll and the
大屏 mode. Screenshots go to test-artifacts/ (gitignored).

Skips when /usr/bin/chromium or playwright is missing, unless GRIDBOT_E2E_REQUIRED=1.
"""

from __future__ import annotations

import csv
import io
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import uvicorn
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.models.entities import Grid, Ticket
from gridbot.models.enums import TicketStatus
from gridbot.models.messaging.coordination import LocalCoordinator
from tests.api.conftest import api_settings
from tests.api.test_metrics_api import seed
from tests.e2e.conftest import unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MARCH = "from=2026-03-01&to=2026-03-31"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Site:
    base: str
    token: str
    street: int
    community: int
    reopened_ticket: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(app: Any) -> Iterator[str]:
    """uvicorn on a free loopback port in a thread; yields the base URL."""
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def site(pg_engine: Engine, pg_session_factory: sessionmaker[Session]) -> Iterator[Site]:
    """The app over the seeded fixture, grids given centre points for the map."""
    world, _ids, token = seed(pg_session_factory)
    with pg_session_factory.begin() as s:
        for i, grid in enumerate(s.scalars(select(Grid).order_by(Grid.id))):
            grid.center_lng, grid.center_lat = 118.77 + 0.01 * i, 32.05 + 0.005 * i
        reopened = s.scalar(
            select(Ticket.id).where(
                Ticket.grid_id == world.grid, Ticket.cycle == 1, Ticket.status == TicketStatus.CLOSED
            )
        )
        assert reopened is not None
    app = create_app(
        api_settings(pg_engine), engine=pg_engine, coordinator=LocalCoordinator(), limiter=LocalRateLimiter()
    )
    for base in serve(app):
        yield Site(base, token, world.street, world.community, reopened)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """A persistent-context headless Chromium (a fresh profile directory)."""
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install playwright; no browser download needed)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 1100},
            accept_downloads=True,
        )
        try:
            yield ctx
        finally:
            ctx.close()


def sign_in(page: Any, site: Site, path: str) -> None:
    """Open a dashboard URL, type the token into the form, wait for the page to load."""
    page.goto(f"{site.base}{path}")
    page.wait_for_selector("#signin-form", state="visible", timeout=20_000)
    page.fill("#token", site.token)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#app", state="visible", timeout=20_000)


def no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_sign_in_overview_drill_down_and_dates(site: Site, browser: Any) -> None:
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    sign_in(page, site, f"/dashboard?region={site.street}&{MARCH}")
    page.wait_for_selector("#status:has-text('共 4 个网格')", timeout=20_000)
    # the token went in a POST body only: never in a URL, never readable by scripts
    assert all(site.token not in u for u in [*requests, page.url])
    assert "gridbot_session" not in page.evaluate("document.cookie")
    [cookie] = [c for c in browser.cookies() if c["name"] == "gridbot_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    kpi = lambda name: page.inner_text(f"[data-kpi='{name}'] b")  # noqa: E731
    # the street's March figures (tests/integration/test_metrics.py STREET, score as in test_metrics_api)
    assert kpi("受理量") == "11"
    assert kpi("满意率") == "66.7%"
    assert kpi("首次响应及时率") == "63.6%"
    assert kpi("考核得分") == "23.4"  # 23.35 (test_metrics_api), toFixed(1) of the double 23.350…01
    assert kpi("超期工单") == "4"
    assert kpi("入群率") == "46.7%"  # 350 members / 750 households, capped at 100 %
    # the definition is there on hover
    assert "应响应工单" in (page.get_attribute("[data-kpi='首次响应及时率']", "title") or "")
    assert page.inner_text("#children").count("社区") == 2
    # the ranking shows each score's parts and weights; G102 has no case: 无案件, unranked
    page.wait_for_selector("#ranking td.parts", timeout=20_000)
    ranking = page.inner_text("#ranking")
    assert "首次响应及时率" in ranking and "/15" in ranking and "无案件" in ranking
    assert "权重按比例" in page.inner_text("#method")
    page.wait_for_selector("#categories canvas", timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # drill down into 五台山社区 by click: the URL names it, Back returns to the street
    page.click("#children a:has-text('五台山社区')")
    page.wait_for_selector("#children >> text=五台山第一网格", timeout=20_000)
    assert f"region={site.community}" in page.url
    page.wait_for_function("() => document.querySelector(\"[data-kpi='受理量'] b\").textContent === '9'")
    # a new date range keeps the drill-down (and reads the community's figures for it)
    page.fill("#from", "2026-03-02")
    page.click("#range button")
    page.wait_for_function("() => location.search.includes('from=2026-03-02')")
    assert f"region={site.community}" in page.url
    page.wait_for_selector("#status:has-text('五台山社区')", timeout=20_000)
    page.go_back()
    page.wait_for_function("() => location.search.includes('from=2026-03-01')")
    page.go_back()
    page.wait_for_function(f"() => location.search.includes('region={site.street}')")
    page.wait_for_selector("#children >> text=龙仓巷社区", timeout=20_000)

    # the same community straight from a bookmarked URL, in a second tab
    other = browser.new_page()
    other.goto(f"{site.base}/dashboard?region={site.community}&{MARCH}")
    other.wait_for_selector("#children >> text=五台山第二网格", timeout=20_000)
    assert other.inner_text("[data-kpi='受理量'] b") == "9"

    # a reversed range typed into a URL: a Chinese error, not [object Object]
    other.goto(f"{site.base}/dashboard?region={site.community}&from=2026-03-31&to=2026-03-01")
    other.wait_for_selector("#status.error", timeout=20_000)
    status = other.inner_text("#status")
    assert "日期范围无效" in status and "object" not in status
    # and typed into the form: refused before any request
    other.goto(f"{site.base}/dashboard?region={site.community}&{MARCH}")
    other.wait_for_selector("#children >> text=五台山第二网格", timeout=20_000)
    other.fill("#from", "2026-03-31")
    other.fill("#to", "2026-03-01")
    other.click("#range button")
    assert "开始日期不能晚于结束日期" in other.inner_text("#status")
    assert "from=2026-03-01" in other.url

    # 大屏 mode: dark, self-refreshing
    other.goto(f"{site.base}/dashboard?region={site.street}&{MARCH}&screen=1&refresh=2")
    other.wait_for_selector("body.screen #status:has-text('共 4 个网格')", timeout=20_000)
    other.wait_for_function(
        "() => document.querySelector('#status').textContent === '加载中…'", timeout=10_000
    )
    other.wait_for_selector("#status:has-text('共 4 个网格')", timeout=20_000)
    other.wait_for_selector("#trend canvas", timeout=20_000)
    other.screenshot(path=str(ARTIFACTS / "dashboard-screen.png"), full_page=True)

    # sign out: the cookie no longer opens the data
    page.click("#logout")
    page.wait_for_selector("#signin-form", state="visible", timeout=20_000)
    assert page.request.get(f"{site.base}/auth/me").status == 401


def test_tickets_filters_ticket_page_and_exports(site: Site, browser: Any) -> None:
    page = browser.new_page()
    sign_in(page, site, f"/dashboard?view=tickets&region={site.street}")
    page.wait_for_selector("#status:has-text('工单清单')", timeout=20_000)
    # 无效/退回 in the street: t7 (G001), u2 and u4 (G002)
    page.select_option("#filters select[name=status]", "rejected")
    page.click("#filters button[type=submit]")
    page.wait_for_function("() => location.search.includes('status=rejected')")
    page.wait_for_selector("#status:has-text('工单清单：3 件')", timeout=20_000)
    assert page.locator("#tickets tr").count() == 4  # header + 3
    # the CSV export carries the same filter
    with page.expect_download() as info:
        page.click("#tickets-csv")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["工单号", "创建时间", "网格"] and len(rows) == 4
    assert {r[5] for r in rows[1:]} == {"无效/退回"}
    page.screenshot(path=str(ARTIFACTS / "dashboard-tickets.png"), full_page=True)

    # the ticket page: its trail, ratings and 回访; Back returns to the filtered list
    page.goto(f"{site.base}/dashboard?view=tickets&region={site.street}&status=closed")
    page.wait_for_selector(f"#tickets a:has-text('#{site.reopened_ticket}')", timeout=20_000)
    page.click(f"#tickets a:has-text('#{site.reopened_ticket}')")
    page.wait_for_selector("#ticket h2", timeout=20_000)
    assert f"ticket={site.reopened_ticket}" in page.url
    text = page.inner_text("#ticket")
    assert "重办" in text and "不满意" in text and "基本满意" in text and "办理过程" in text
    page.screenshot(path=str(ARTIFACTS / "dashboard-ticket.png"), full_page=True)
    page.go_back()
    page.wait_for_selector("#status:has-text('工单清单')", timeout=20_000)
    assert "status=closed" in page.url and "ticket=" not in page.url

    # the bulletin export from the street's overview: an XLSX with numbers formatted as %
    page.goto(f"{site.base}/dashboard?region={site.street}&{MARCH}")
    page.wait_for_selector("#export-bulletin-xlsx", timeout=20_000)
    with page.expect_download() as info:
        page.click("#export-bulletin-xlsx")
    assert info.value.suggested_filename.endswith("-2026-03.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    sheet = book.worksheets[0]
    assert "2026-03" in str(sheet["A1"].value) and sheet["G3"].number_format == "0.0%"

    # the map of grid centres, coloured by a KPI chosen in the URL
    page.goto(f"{site.base}/dashboard?view=map&region={site.street}&key=overdue&{MARCH}")
    page.wait_for_selector("#map canvas", timeout=20_000)
    page.wait_for_selector("#map-note:has-text('共 4 个网格有位置数据')", timeout=20_000)
    assert page.input_value("#map-key") == "overdue"
    page.screenshot(path=str(ARTIFACTS / "dashboard-map.png"), full_page=True)

    # gridworkers and the data-quality self-check
    page.goto(f"{site.base}/dashboard?view=quality&region={site.street}")
    page.wait_for_selector("#quality >> text=统计汇总过期", timeout=20_000)


def test_phone_layout_has_no_horizontal_scroll(site: Site, browser: Any) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, site, f"/dashboard?region={site.street}&{MARCH}")
    page.wait_for_selector("#status:has-text('共 4 个网格')", timeout=20_000)
    page.wait_for_selector("#ranking td.parts", timeout=20_000)
    page.wait_for_selector("#trend canvas", timeout=20_000)
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    for view in ("tickets", "workers", "map"):
        page.goto(f"{site.base}/dashboard?view={view}&region={site.street}&{MARCH}")
        page.wait_for_selector("#status:not(:has-text('加载中'))", timeout=20_000)
        assert no_horizontal_scroll(page), view
    page.goto(f"{site.base}/dashboard?ticket={site.reopened_ticket}")
    page.wait_for_selector("#ticket h2", timeout=20_000)
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone-ticket.png"), full_page=True)

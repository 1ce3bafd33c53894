"""The dashboard in headless Debian Chromium: uvicorn on a free loopback port over the hand-counted
fixture (PostgreSQL), the page loaded with a street admin's token, the fixture's numbers on screen,
and a screenshot in test-artifacts/dashboard.png.

Skips when /usr/bin/chromium or playwright is missing, unless GRIDBOT_E2E_REQUIRED=1.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.models.messaging.coordination import LocalCoordinator
from tests.api.conftest import api_settings
from tests.api.test_metrics_api import seed
from tests.e2e.conftest import unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(pg_engine: Engine, pg_session_factory: sessionmaker[Session]) -> Iterator[tuple[str, str, int]]:
    """uvicorn serving the app over the seeded fixture: (base URL, token, street id)."""
    world, _ids, token = seed(pg_session_factory)
    app = create_app(
        api_settings(pg_engine), engine=pg_engine, coordinator=LocalCoordinator(), limiter=LocalRateLimiter()
    )
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", token, world.street
    srv.should_exit = True
    thread.join(10)


def test_dashboard_shows_the_fixture(server: tuple[str, str, int], tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install playwright; no browser download needed)")
    base, token, _street = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        # a fresh profile directory (playwright passes it to chromium as --user-data-dir)
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 1100},
        )
        try:
            page = browser.new_page()
            page.goto(f"{base}/dashboard?token={token}&from=2026-03-01&to=2026-03-31")
            page.wait_for_selector("#status:has-text('共 4 个网格')", timeout=20_000)
            kpi = lambda name: page.inner_text(f"[data-kpi='{name}'] b")  # noqa: E731
            # the street's March figures (tests/integration/test_metrics.py STREET, score as in test_metrics_api)
            assert kpi("受理量") == "11"
            assert kpi("满意率") == "66.7%"
            assert kpi("首次响应及时率") == "63.6%"
            assert kpi("考核得分") == "19.1"  # 19.15 (test_metrics_api), toFixed(1) of the double 19.149…
            assert kpi("超期工单") == "4"
            assert page.inner_text("#children").count("社区") == 2
            page.wait_for_function("document.querySelector('#ranking').rows.length === 5")
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            # drill down into 五台山社区: its two grids appear
            page.click("#children tr.link >> text=五台山社区")
            page.wait_for_selector("#children >> text=五台山第一网格", timeout=20_000)
            assert kpi("受理量") == "9"
        finally:
            browser.close()
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000

"""/docs and /redoc render in headless Chromium from the vendored assets, with no script or style blocked
by the CSP and no response from anywhere but the server (as on an intranet without internet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import unavailable
from tests.e2e.test_dashboard import CHROMIUM, FLAGS, Site, site  # noqa: F401 - the uvicorn fixture

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_docs_render_offline_under_the_csp(site: Site, tmp_path: Path) -> None:  # noqa: F811
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import Route, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install playwright; no browser download needed)")
    base = site.base
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        try:
            page = browser.new_page()
            foreign: list[str] = []
            problems: list[str] = []

            def offline(route: Route) -> None:
                """As on an intranet: only the server answers (ReDoc's footer still asks for a logo image)."""
                if route.request.url.startswith(base):
                    route.continue_()
                else:
                    foreign.append(f"{route.request.resource_type} {route.request.url}")
                    route.abort()

            page.route("**/*", offline)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
            assert "gridbot" in page.inner_text(".swagger-ui .info .title")
            page.goto(f"{base}/redoc")
            page.wait_for_selector("h1:has-text('gridbot')", timeout=20_000)
        finally:
            browser.close()
    assert [f for f in foreign if not f.startswith("image ")] == []
    assert [p for p in problems if "Content Security Policy" in p and "img-src" not in p] == []

"""/docs and /redoc load only vendored, pinned assets (no CDN), under the API's CSP."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest

from gridbot.api.routers.dashboard import STATIC

pytestmark = pytest.mark.anyio
PINNED = {  # api/static/vendor/VERSIONS.md
    "vendor/swagger-ui/swagger-ui-bundle.js": "e6a898692f2d768e807c3ba4626068a69a2c5dd960dd6c76f3e4d3a3de180af2",
    "vendor/redoc/redoc.standalone.js": "6beb5aea23b71d09122ee35de8f326e38aec050e774f3bfba1f34e5c36608986",
}


def test_vendored_files_are_the_pinned_versions() -> None:
    for path, digest in PINNED.items():
        assert hashlib.sha256((STATIC / path).read_bytes()).hexdigest() == digest, path


async def test_docs_pages_load_only_their_own_assets(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        r = await client.get(page)
        assert r.status_code == 200
        refs = re.findall(r'(?:src|href|spec-url)="([^"]+)"', r.text)
        assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs), refs
        assert "<script>" not in r.text  # no inline script: the CSP forbids them
        assert "script-src 'self';" in r.headers["content-security-policy"]
        for ref in refs:
            asset = await client.get(ref)
            assert asset.status_code == 200, ref
    assert (await client.get("/docs-assets/../app.py")).status_code == 404
    assert (await client.get("/openapi.json")).json()["info"]["title"]

"""GET /dashboard: the administrators' dashboard page and its bundled assets (no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from gridbot.api.errors import not_found

router = APIRouter(tags=["dashboard"])
STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = {
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
    "vendor/chart.umd.min.js": "text/javascript",
    "vendor/chart.js.LICENSE.md": "text/markdown",
}


@router.get("/dashboard", include_in_schema=False)
def dashboard() -> FileResponse:
    """The page; it asks for an API token and reads the JSON endpoints."""
    return FileResponse(STATIC / "dashboard.html", media_type="text/html")


@router.get("/dashboard/assets/{name:path}", include_in_schema=False)
def asset(name: str) -> FileResponse:
    """A bundled script or style sheet (only the listed files)."""
    if name not in ASSETS:
        raise not_found("该文件")
    return FileResponse(STATIC / name, media_type=ASSETS[name])

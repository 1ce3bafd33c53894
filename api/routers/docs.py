"""GET /docs (Swagger UI) and /redoc (ReDoc) from vendored, pinned assets (api/static/vendor/VERSIONS.md).

FastAPI's own pages load unpinned scripts from a CDN with an inline initialiser: a blank page on
intranets without internet, and incompatible with the API's Content-Security-Policy.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from gridbot.api.errors import not_found
from gridbot.api.routers.dashboard import STATIC

router = APIRouter(include_in_schema=False)
ASSETS = {
    "swagger-ui-bundle.js": ("vendor/swagger-ui/swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("vendor/swagger-ui/swagger-ui.css", "text/css"),
    "docs-init.js": ("docs-init.js", "text/javascript"),
    "redoc.standalone.js": ("vendor/redoc/redoc.standalone.js", "text/javascript"),
}
_SWAGGER = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>gridbot API 文档</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script src="/docs-assets/docs-init.js"></script></body></html>
"""
_REDOC = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>gridbot API 文档</title></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/docs-assets/redoc.standalone.js"></script></body></html>
"""


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    """Swagger UI over /openapi.json."""
    return HTMLResponse(_SWAGGER)


@router.get("/redoc")
def redoc() -> HTMLResponse:
    """ReDoc over /openapi.json."""
    return HTMLResponse(_REDOC)


@router.get("/docs-assets/{name}")
def asset(name: str) -> FileResponse:
    """A vendored script or style sheet (only the listed files)."""
    if name not in ASSETS:
        raise not_found("该文件")
    path, media_type = ASSETS[name]
    return FileResponse(
        STATIC / path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
    )

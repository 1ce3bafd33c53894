"""ASGI guards that run before routing and authentication: a request-body size limit and security headers.

The body limit answers 413 from the declared Content-Length without reading the body (an
unauthenticated 250 MB POST costs the server nothing), and counts a body sent without a length
(chunked) as it arrives, answering 413 as soon as it passes the limit. It wraps the whole app, so no
route, dependency or authentication runs first.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# the dashboard and the docs load only their own vendored files; nothing may frame the pages
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc set inline styles and ReDoc runs a blob: worker; their scripts stay 'self' only
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") + "; worker-src 'self' blob:"
_DOCS_PAGES = frozenset({"/docs", "/redoc"})
_CACHEABLE_PREFIXES = ("/dashboard/assets/", "/docs-assets/")


class _TooLarge(Exception):
    pass


def _error(status: int, code: str, detail: str) -> tuple[Message, Message]:
    body = json.dumps({"detail": detail, "code": code}, ensure_ascii=False).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    """413 for request bodies above `max_bytes`, decided before the app (and authentication) runs."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, uploads: tuple[str, ...] = (), upload_bytes: int = 0
    ) -> None:
        self.app, self.default_max = app, max_bytes
        # photo uploads (a handful of routes, matched on the path alone) may be larger
        self.uploads = re.compile("|".join(f"(?:{p})" for p in uploads)) if uploads else None
        self.upload_bytes = max(upload_bytes, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = self.uploads is not None and self.uploads.match(str(scope.get("path", ""))) is not None
        max_bytes = self.upload_bytes if upload else self.default_max
        await self._limited(scope, receive, send, max_bytes)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._refuse(send, 400, "bad_request", "请求头 Content-Length 无效")
                return
            if int(declared) > max_bytes:
                await self._refuse(send, 413, "body_too_large", f"请求体过大（上限 {max_bytes} 字节）")
                return
        seen = 0
        started = exceeded = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    exceeded = True
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # whatever the app answers to a body it could not read (FastAPI: 400) becomes 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await self._refuse(send, 413, "body_too_large", f"请求体过大（上限 {max_bytes} 字节）")

    @staticmethod
    async def _refuse(send: Send, status: int, code: str, detail: str) -> None:
        start, body = _error(status, code, detail)
        await send(start)
        await send(body)


class SecurityHeaders:
    """CSP, frame, referrer and MIME-sniffing headers on every response; no-store on all but static assets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        cacheable = path.startswith(_CACHEABLE_PREFIXES)
        csp = (DOCS_CSP if path in _DOCS_PAGES else CSP).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"cache-control" or cacheable
                ]
                headers += [
                    (b"content-security-policy", csp),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if not cacheable:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)

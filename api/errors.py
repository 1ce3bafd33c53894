"""API errors: one JSON shape, {"detail": <Chinese message>, "code": <machine code>}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gridbot.models.errors import (
    ConcurrentUpdate,
    PermissionDenied,
    PhotoRequired,
    TicketError,
    TicketNotFound,
)
from gridbot.models.org.directory import DirectoryError


class ErrorOut(BaseModel):
    """The body of every non-validation error."""

    detail: str
    code: str


class ApiError(Exception):
    """An error the client can act on, with its HTTP status."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


def unauthorized() -> ApiError:
    """401: no token, a malformed one, or one that is unknown, expired or revoked (indistinguishable)."""
    return ApiError(401, "unauthorized", "令牌无效或已过期", {"WWW-Authenticate": "Bearer"})


def forbidden() -> ApiError:
    """403: the resource lies outside the token's region."""
    return ApiError(403, "forbidden", "该资源不在您的管辖区域内")


def not_found(what: str) -> ApiError:
    """404 with a Chinese message naming what is missing."""
    return ApiError(404, "not_found", f"没有找到{what}")


def ticket_error(exc: TicketError) -> ApiError:
    """Map a lifecycle refusal to HTTP: 404 not found, 403 permission, 409 anything else."""
    if isinstance(exc, TicketNotFound):
        return ApiError(404, "ticket_not_found", exc.user_message)
    if isinstance(exc, PermissionDenied):
        return ApiError(403, "permission_denied", exc.user_message)
    if isinstance(exc, PhotoRequired):
        return ApiError(409, "photo_required", exc.user_message)
    code = "concurrent_update" if isinstance(exc, ConcurrentUpdate) else "conflict"
    return ApiError(409, code, exc.user_message)


def _body(err: ApiError) -> JSONResponse:
    return JSONResponse(
        ErrorOut(detail=err.detail, code=err.code).model_dump(), status_code=err.status, headers=err.headers
    )


def install(app: FastAPI) -> None:
    """Register the handlers that turn domain and API errors into JSON bodies."""

    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _body(exc)

    async def on_ticket_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TicketError)
        return _body(ticket_error(exc))

    async def on_directory_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DirectoryError)
        return _body(ApiError(409, "conflict", exc.user_message))

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": [readable(e) for e in exc.errors()]}, status_code=422)

    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(TicketError, on_ticket_error)
    app.add_exception_handler(DirectoryError, on_directory_error)


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "missing, malformed, unknown, expired or revoked token"},
    403: {"model": ErrorOut, "description": "outside the token's region"},
    429: {"model": ErrorOut, "description": "rate limit exceeded; see Retry-After"},
}
# A route that answers 422 itself (a refused upload, with a Chinese reason) as well as FastAPI's
# validation 422 (a list of problems): both shapes documented, so clients and schema checks agree.
REFUSED_OR_INVALID_422: dict[str, object] = {
    "description": "refused (`detail` a sentence, `code` the reason) or invalid parameters (`detail` a list)",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {"$ref": "#/components/schemas/ErrorOut"},
                    {"$ref": "#/components/schemas/HTTPValidationError"},
                ]
            }
        }
    },
}


_WHAT = {"query": "参数", "path": "路径参数", "body": "请求体", "header": "请求头"}
_MESSAGES = {
    "missing": "缺少必填项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "date_from_datetime_parsing": "应为日期，格式 YYYY-MM-DD",
    "date_parsing": "应为日期，格式 YYYY-MM-DD",
    "string_pattern_mismatch": "格式不对",
    "string_too_long": "太长",
    "string_too_short": "太短",
    "greater_than_equal": "太小",
    "greater_than": "太小",
    "less_than_equal": "太大",
    "less_than": "太大",
    "literal_error": "不是允许的取值",
    "enum": "不是允许的取值",
    "json_invalid": "不是有效的 JSON",
    "extra_forbidden": "不认识的字段",
}


def readable(error: Any) -> dict[str, Any]:
    """One validation error in FastAPI's shape, its `msg` in Chinese naming the parameter."""
    loc = tuple(error.get("loc", ()))
    where = _WHAT.get(str(loc[0]), "") if loc else ""
    name = ".".join(str(p) for p in loc[1:]) or where
    kind = str(error.get("type", ""))
    limit = error.get("ctx") or {}
    bound = next(
        (
            f"（限 {v}）"
            for k, v in limit.items()
            if k in ("ge", "gt", "le", "lt", "max_length", "min_length")
        ),
        "",
    )
    text = _MESSAGES.get(kind)
    msg = f"{where} {name}：{text}{bound}" if text else str(error.get("msg", ""))
    return {"loc": list(loc), "msg": msg, "type": kind}


def invalid(param: str, message: str) -> RequestValidationError:
    """A 422 for a query parameter that parsed but makes no sense, in FastAPI's declared shape."""
    return RequestValidationError([{"loc": ("query", param), "msg": message, "type": "value_error"}])


WITH_NOT_FOUND: dict[int | str, dict[str, object]] = {
    **ERROR_RESPONSES,
    404: {"model": ErrorOut, "description": "no such region or grid"},
}

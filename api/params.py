"""Query parameters shared by the list endpoints, with their bounds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Query
from fastapi.exceptions import RequestValidationError

from gridbot.api.schemas import DB_INT_MAX
from gridbot.models.listings import BadCursor

T = TypeVar("T")
MAX_LIMIT = 200

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")]
Cursor = Annotated[
    str | None,
    Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="`next_cursor` of the previous page."),
]
GridId = Annotated[int | None, Query(ge=1, le=DB_INT_MAX, description="Only this grid (id).")]


def paged(read: Callable[[], T]) -> T:
    """Run a paged read; a cursor we did not issue is a 422 like any other bad parameter."""
    try:
        return read()
    except BadCursor:
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": "invalid cursor", "type": "value_error"}]
        ) from None


# A region or grid by its code (what people know: 320106011, NJ-GL) or by its numeric id.
REF_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,31}$"
RegionRef = Annotated[
    str | None,
    Query(max_length=32, pattern=REF_PATTERN, description="Region code or id (default: the token's region)."),
]
GridRef = Annotated[
    str | None,
    Query(max_length=32, pattern=REF_PATTERN, description="A grid code or id instead of a region."),
]

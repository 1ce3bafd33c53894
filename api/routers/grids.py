"""Grids, their bound WeChat groups and member counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gridbot.api import present
from gridbot.api.auth import PrincipalDep, require_grid, require_region
from gridbot.api.deps import SessionDep
from gridbot.api.errors import ERROR_RESPONSES, ErrorOut
from gridbot.api.params import Cursor, Limit, paged
from gridbot.api.schemas import DB_INT_MAX, GridDetail, GridPage
from gridbot.models import listings as queries

router = APIRouter(prefix="/grids", tags=["grids"], responses=ERROR_RESPONSES)


@router.get("", responses={404: {"model": ErrorOut}})
def list_grids(
    principal: PrincipalDep,
    session: SessionDep,
    community: Annotated[int | None, Query(ge=1, le=DB_INT_MAX, description="Community id.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> GridPage:
    """Grids of the caller's subtree (optionally of one community)."""
    if community is not None:
        require_region(session, principal, community)
    page = paged(lambda: queries.grids_in_scope(session, principal.region_path, limit, cursor, community))
    return GridPage(items=[present.grid(g) for g in page.items], next_cursor=page.next_cursor)


@router.get("/{grid_id}", responses={404: {"model": ErrorOut}})
def get_grid(
    grid_id: Annotated[int, Path(ge=1, le=DB_INT_MAX)], principal: PrincipalDep, session: SessionDep
) -> GridDetail:
    """A grid with its group bindings, latest member counts, bot watchdog state and workers."""
    require_grid(session, principal, grid_id)
    detail = queries.grid_detail(session, grid_id)
    assert detail is not None
    return present.grid_detail(detail)

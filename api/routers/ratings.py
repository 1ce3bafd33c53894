"""Residents' ratings of resolved tickets in the caller's grids."""

from __future__ import annotations

from fastapi import APIRouter

from api import present
from api.auth import PrincipalDep, require_grid
from api.deps import SessionDep
from api.errors import ERROR_RESPONSES, ErrorOut
from api.params import Cursor, GridId, Limit, paged
from api.schemas import RatingPage
from models import queries

router = APIRouter(prefix="/ratings", tags=["ratings"], responses=ERROR_RESPONSES)


@router.get("", responses={404: {"model": ErrorOut}})
def list_ratings(
    principal: PrincipalDep,
    session: SessionDep,
    grid: GridId = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> RatingPage:
    """Ratings newest first; comments masked."""
    if grid is not None:
        require_grid(session, principal, grid)
    page = paged(lambda: queries.ratings_in_scope(session, principal.region_path, limit, cursor, grid))
    return RatingPage(items=[present.rating(r, t) for r, t in page.items], next_cursor=page.next_cursor)

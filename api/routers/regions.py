"""The region tree, limited to the caller's subtree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from gridbot.api import present
from gridbot.api.auth import PrincipalDep, require_region
from gridbot.api.deps import SessionDep
from gridbot.api.errors import ERROR_RESPONSES, ErrorOut
from gridbot.api.schemas import DB_INT_MAX, RegionDetail, RegionOut
from gridbot.models import listings as queries

router = APIRouter(prefix="/regions", tags=["regions"], responses=ERROR_RESPONSES)


@router.get("")
def list_regions(principal: PrincipalDep, session: SessionDep) -> list[RegionOut]:
    """Every region of the caller's subtree, in tree order."""
    return [present.region(r) for r in queries.regions_in_scope(session, principal.region_path)]


@router.get("/{region_id}", responses={404: {"model": ErrorOut}})
def get_region(
    region_id: Annotated[int, Path(ge=1, le=DB_INT_MAX)], principal: PrincipalDep, session: SessionDep
) -> RegionDetail:
    """A region and its direct children."""
    region = require_region(session, principal, region_id)
    return present.region_detail(region, queries.region_children(session, region.id))

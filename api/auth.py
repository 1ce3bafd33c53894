"""Authentication (bearer API tokens), the per-token rate limit, and region scope checks."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from gridbot.api.deps import ServicesDep
from gridbot.api.errors import ApiError, forbidden, not_found, unauthorized
from gridbot.models.entities import Grid, Region
from gridbot.models.listings import in_scope
from gridbot.models.org.tokens import TokenInvalid, TokenPrincipal, verify_token

logger = logging.getLogger(__name__)
bearer = HTTPBearer(auto_error=False, description="An API token from `gridbot token create`.")


def get_principal(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> TokenPrincipal:
    """The verified caller, or 401; then the per-token rate limit, or 429 with Retry-After."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    try:
        with services.sessions.begin() as session:
            principal = verify_token(session, credentials.credentials)
    except TokenInvalid as exc:
        logger.info("API token refused: %s", exc)  # the reason only, never the token
        raise unauthorized() from None
    retry_after = services.limiter.hit(
        f"token:{principal.token_id}", services.settings.api.rate_limit_per_minute
    )
    if retry_after:
        raise ApiError(429, "rate_limited", "请求过于频繁，请稍后再试", {"Retry-After": str(retry_after)})
    return principal


PrincipalDep = Annotated[TokenPrincipal, Depends(get_principal)]


def require_scope(principal: TokenPrincipal, path: str) -> None:
    """403 unless the region path (or a grid's region_path) lies in the token's subtree."""
    if not in_scope(path, principal.region_path):
        raise forbidden()


def require_grid(session: Session, principal: TokenPrincipal, grid_id: int) -> Grid:
    """The grid, 404 when missing, 403 when outside the token's subtree."""
    grid = session.get(Grid, grid_id)
    if grid is None:
        raise not_found(f"网格 {grid_id}")
    require_scope(principal, grid.region_path)
    return grid


def require_region(session: Session, principal: TokenPrincipal, region_id: int) -> Region:
    """The region, 404 when missing, 403 when outside the token's subtree."""
    region = session.get(Region, region_id)
    if region is None:
        raise not_found(f"区域 {region_id}")
    require_scope(principal, region.path)
    return region

"""The FastAPI app factory: clients are built in the lifespan, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine

from gridbot.api import errors, telemetry
from gridbot.api.deps import Services
from gridbot.api.guards import BodyLimit, SecurityHeaders
from gridbot.api.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from gridbot.api.routers import ROUTERS
from gridbot.api.routers.attachments import UPLOAD_PATHS
from gridbot.models.db import make_engine, make_session_factory
from gridbot.models.entities import utcnow
from gridbot.models.messaging.coordination import Coordinator, RedisCoordinator, make_coordinator
from gridbot.models.settings import Settings, get_settings
from gridbot.models.tickets.holidays import coverage_warning
from gridbot.models.tickets.sla import load_policy_for

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    coordinator: Coordinator | None = None,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """The administrators' API; an injected engine/coordinator/limiter is used and not closed."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        db = engine if engine is not None else make_engine(settings.db)
        coord = coordinator if coordinator is not None else make_coordinator(settings)
        redis_limiter = (
            RedisRateLimiter(settings.redis.url, settings.redis.key_prefix) if settings.redis.url else None
        )
        app.state.services = Services(
            settings=settings,
            engine=db,
            sessions=make_session_factory(db),
            coordinator=coord,
            limiter=limiter or redis_limiter or LocalRateLimiter(),
            redis_limiter=redis_limiter,
            policy=load_policy_for(settings.sla),
        )
        logger.info("API ready on %s", db.url.render_as_string(hide_password=True))
        calendar = app.state.services.policy.calendar
        if warning := coverage_warning(calendar, utcnow().astimezone(calendar.tz).date()):
            logger.warning("%s", warning)
        try:
            yield
        finally:
            if redis_limiter is not None:
                redis_limiter.close()
            if coordinator is None and isinstance(coord, RedisCoordinator):
                coord.close()
            if own_engine:
                db.dispose()

    app = FastAPI(
        title="gridbot administrators' API",
        version="0.1.0",
        description="Tickets, grids and people of a region subtree, for community, street, district and "
        "city administrators. Authenticate with `Authorization: Bearer <token>` (`gridbot token create`). "
        "Residents' personal data is masked in every response.",
        lifespan=lifespan,
        docs_url=None,  # served from vendored assets by api/routers/docs.py
        redoc_url=None,
    )
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    errors.install(app)
    telemetry.install(app)
    # added last, so they wrap everything else: the body limit runs before any route or authentication
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.api.max_body_bytes,
        uploads=UPLOAD_PATHS,
        upload_bytes=settings.attachments.max_bytes,
    )
    for router in ROUTERS:
        app.include_router(router)
    return app

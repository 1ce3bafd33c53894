"""Dependencies: the services built in the lifespan and per-request sessions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.ratelimit import RateLimiter, RedisRateLimiter
from gridbot.api.result_cache import ResultCache
from gridbot.models.messaging.coordination import Coordinator
from gridbot.models.settings import Settings
from gridbot.models.tickets.sla import SLAPolicy


@dataclass
class Services:
    """What the lifespan builds and the routes use."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    coordinator: Coordinator
    limiter: RateLimiter
    redis_limiter: RedisRateLimiter | None
    policy: SLAPolicy
    results: ResultCache = field(default_factory=ResultCache)


def get_services(request: Request) -> Services:
    """The services of the running app."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """A read session for one request (writes open their own transaction through the ticket service)."""
    with services.sessions() as session:
        if services.engine.dialect.name == "postgresql":
            _no_jit(session)
        yield session


def _no_jit(session: Session) -> None:
    """Turn PostgreSQL's JIT off for the request's transaction (one round trip): the dashboard's
    city-level queries are costed high enough to trigger it, and compiling took ~0.4 s of a 1.2 s
    query while saving nothing. SET LOCAL, because a plain SET would be undone by the rollback
    that ends every read session anyway."""
    session.connection().exec_driver_sql("SET LOCAL jit = off")


SessionDep = Annotated[Session, Depends(get_session, scope="function")]

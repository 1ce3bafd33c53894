"""Dependencies: the services built in the lifespan and per-request sessions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.ratelimit import RateLimiter, RedisRateLimiter
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


def get_services(request: Request) -> Services:
    """The services of the running app."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """A read session for one request (writes open their own transaction through the ticket service)."""
    with services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]

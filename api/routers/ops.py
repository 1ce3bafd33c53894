"""Operations: liveness, readiness and Prometheus metrics (no token: they carry no residents' data)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from gridbot.api.deps import Services, ServicesDep
from gridbot.api.schemas import Health
from gridbot.models.db import DatabaseUnavailable, check_connection
from gridbot.models.entities import BotState, utcnow
from gridbot.models.messaging import bot_status
from gridbot.models.migrate import current_revision, head_revision
from gridbot.models.telemetry import refresh_from_database
from gridbot.models.tickets.holidays import coverage_warning

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"model": Health, "description": "not ready"}})
def readyz(services: ServicesDep) -> Response:
    """Database reachable and migrated to head; Redis reachable when configured."""
    checks: dict[str, str] = {}
    try:
        check_connection(services.engine)
        current, head = current_revision(services.engine), head_revision(services.engine)
        checks["database"] = "ok" if current == head else f"at revision {current}, head is {head}"
    except (DatabaseUnavailable, SQLAlchemyError) as exc:
        checks["database"] = type(exc).__name__
    if services.redis_limiter is not None:
        checks["redis"] = "ok" if services.redis_limiter.ping() else "unreachable"
    ready = all(v == "ok" for v in checks.values())
    warnings = _warnings(services)
    body = Health(status="ready" if ready else "not ready", checks=checks, warnings=warnings)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


def _warnings(services: Services) -> list[str]:
    """The holiday-list gap and bot accounts that need an operator (never the login link: no token here)."""
    calendar = services.policy.calendar
    warning = coverage_warning(calendar, utcnow().astimezone(calendar.tz).date())
    out = [warning] if warning else []
    try:
        with services.sessions() as session:
            rows = bot_status.read_all(session)
    except SQLAlchemyError:
        return out
    out += [f"bot {r.account}: bot_status={r.state.value}" for r in rows if r.state is not BotState.ONLINE]
    return out


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(services: ServicesDep) -> Response:
    """Prometheus text format: API requests and latency, outbox lag, and the bot's figures."""
    try:
        with services.sessions() as session:
            refresh_from_database(session, utcnow())
    except SQLAlchemyError:
        pass  # metrics must still be served when the database is down; readyz reports that
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

"""The routers the app factory includes, in order (add yours to ROUTERS)."""

from fastapi import APIRouter

from gridbot.api.routers import (
    attachments,
    bulletin,
    dashboard,
    dead_letters,
    docs,
    exchange,
    grids,
    messages,
    metrics,
    notices,
    open311,
    ops,
    org,
    people,
    ratings,
    regions,
    session,
    tickets,
    wecom,
    work,
)

ROUTERS: list[APIRouter] = [
    ops.router,
    regions.router,
    grids.router,
    people.router,
    org.router,
    tickets.router,
    attachments.router,
    messages.router,
    ratings.router,
    metrics.router,
    bulletin.router,
    dead_letters.router,
    dashboard.router,
    docs.router,
    wecom.router,
    exchange.router,
    open311.router,
    notices.router,
    session.router,
    work.router,
]

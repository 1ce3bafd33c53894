"""The routers the app factory includes, in order (add yours to ROUTERS)."""

from fastapi import APIRouter

from gridbot.api.routers import (
    bulletin,
    dashboard,
    grids,
    messages,
    metrics,
    ops,
    people,
    ratings,
    regions,
    tickets,
    wecom,
)

ROUTERS: list[APIRouter] = [
    ops.router,
    regions.router,
    grids.router,
    people.router,
    tickets.router,
    messages.router,
    ratings.router,
    metrics.router,
    bulletin.router,
    dashboard.router,
    wecom.router,
]

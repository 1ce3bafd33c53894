"""seed-demo: a small city by default, varied categories and texts, nothing in the future."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Message, Rating, Ticket, TicketDeadline, utcnow
from gridbot.seed import SeedShape, seed_demo

pytestmark = pytest.mark.integration


def test_a_small_seeded_city_has_varied_tickets_and_no_future_timestamps(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as session:
        seed_demo(session, SeedShape.scaled(20, 30))
    now = utcnow()
    with session_factory() as session:
        latest = [
            session.scalar(select(func.max(Message.sent_at))),
            session.scalar(select(func.max(Ticket.created_at))),
            session.scalar(select(func.max(Ticket.resolved_at))),
            session.scalar(select(func.max(Ticket.closed_at))),
            session.scalar(select(func.max(Rating.created_at))),
            session.scalar(select(func.max(TicketDeadline.met_at))),
        ]
        assert all(t is None or t <= now for t in latest), latest
        categories = session.scalars(select(Ticket.category).distinct()).all()
        texts = session.scalars(select(Ticket.text).distinct()).all()
        assert len(categories) >= 8 and len(texts) >= 15

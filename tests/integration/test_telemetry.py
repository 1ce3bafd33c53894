"""Prometheus gauges derived from the database, and the bot's in-process counters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models import telemetry
from gridbot.models.entities.bot_status import BotState
from gridbot.models.enums import Priority, TicketKind
from gridbot.models.messaging import bot_status
from gridbot.models.tickets import service as tickets
from gridbot.models.tickets.sla import load_policy
from tests.conftest import World
from tests.integration.conftest import Group

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_gauges_follow_the_database(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory.begin() as session:
        ticket = tickets.open_ticket(
            session,
            grid_id=world.grid,
            kind=TicketKind.INCIDENT,
            category="property",
            category_label="物业服务",
            priority=Priority.NORMAL,
            text="电梯坏了",
            text_masked="电梯坏了",
            reporter_id=world.resident,
            now=NOW,
            policy=load_policy(),
        )
        for d in ticket.deadlines[:2]:
            d.breached_at = d.due_at
        bot_status.record(
            session, "wxid_a", BotState.ONLINE, logged_in=True, last_message_at=NOW, last_error=None, now=NOW
        )
        bot_status.record(
            session,
            "wxid_b",
            BotState.DISCONNECTED,
            logged_in=False,
            last_message_at=None,
            last_error="gone",
            now=NOW,
        )
        kinds = [d.kind.value for d in ticket.deadlines[:2]]
    with session_factory() as session:
        telemetry.refresh_from_database(session, NOW + timedelta(minutes=5))
    for kind in kinds:
        assert sample("gridbot_sla_breaches_total", kind=kind) == 1
    assert sample("gridbot_bot_connected", account="wxid_a") == 1
    assert sample("gridbot_bot_connected", account="wxid_b") == 0
    assert sample("gridbot_outbox_pending") == 0


@pytest.mark.anyio
async def test_the_bot_counts_messages_and_times_classification(group: Group) -> None:
    tickets_before = sample("gridbot_messages_processed_total", outcome="ticket") or 0
    chatter_before = sample("gridbot_messages_processed_total", outcome="chatter") or 0
    timed_before = sample("gridbot_classification_seconds_count") or 0
    await group.report("3栋2单元楼道灯又坏了，晚上黑灯瞎火的")
    await group.say("刘师傅", "早上好👍")
    assert sample("gridbot_messages_processed_total", outcome="ticket") == tickets_before + 1
    assert sample("gridbot_messages_processed_total", outcome="chatter") == chatter_before + 1
    assert sample("gridbot_classification_seconds_count") == timed_before + 2

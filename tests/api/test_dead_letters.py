"""GET /outbox/dead: undeliverable reminders and escalations, scoped by region, masked, with why."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.enums import OutboxKind, OutboxStatus
from gridbot.models.messaging.outbox import enqueue, mark_failed
from tests.api.conftest import PHONE, T0, Seeded, Tokens

pytestmark = pytest.mark.anyio


async def test_a_dead_escalation_is_listed_with_whom_and_why_in_scope_only(
    client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as session:
        for number, who in ((seeded.mine, "wx-street"), (seeded.other, "wx-other")):
            row = enqueue(
                session,
                dedupe_key=f"sla:test:{number}",
                kind=OutboxKind.ESCALATION,
                text=f"【超时督办】#{number} 居民电话{PHONE}",
                now=T0,
                recipient_platform_id=who,
                ticket_id=number,
            )
            row.attempts = 8
            assert mark_failed(session, row.id, T0, "TransportError", 1.0, 8) is OutboxStatus.DEAD
    mine = (await client.get("/outbox/dead", headers=tokens.community)).json()["items"]
    assert [(d["ticket"], d["recipient"], d["last_error"], d["attempts"]) for d in mine] == [
        (seeded.mine, "wx-street", "TransportError", 8)
    ]
    assert PHONE not in mine[0]["text"]  # masked
    everything = (await client.get("/outbox/dead", headers=tokens.city)).json()["items"]
    assert {d["ticket"] for d in everything} == {seeded.mine, seeded.other}
    assert (await client.get("/outbox/dead")).status_code == 401

"""Webhooks: queued with the ticket change, delivered signed to a real local receiver, retried after
a failure with backoff, never applied twice (the receiver counts by idempotency key), dead-lettered."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.bot.webhooks import WebhookDeliverer
from gridbot.models.entities import TicketEvent, WebhookDelivery, WebhookEvent
from gridbot.models.entities.exchange import DeliveryStatus
from gridbot.models.enums import Priority, TicketKind
from gridbot.models.exchange import webhooks
from gridbot.models.exchange.config import ExchangeConfig, Subscriber, load_config
from gridbot.models.org.directory import SYSTEM_ACTOR
from gridbot.models.settings import ExchangeSettings
from gridbot.models.tickets import service
from gridbot.models.tickets.sla import load_policy
from tests.conftest import World
from tests.webhook_receiver import receiver

pytestmark = pytest.mark.anyio
SECRET = "s3cret-shared-with-12345"
T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    """A settable clock for the deliverer (backoff is computed from it)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def config_for(url: str, monkeypatch: pytest.MonkeyPatch, region: str = "NJ") -> ExchangeConfig:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    base = load_config()
    sub = Subscriber(name="nj12345", url=url, secret_env="TEST_HOOK_SECRET", region=region, timeout_s=0.5)
    return ExchangeConfig(cities=base.cities, subscribers=(sub,))


def open_one(factory: sessionmaker[Session], world: World, text: str = "3栋门口垃圾堆了三天没人清运") -> int:
    with factory.begin() as session:
        t = service.open_ticket(
            session,
            grid_id=world.grid,
            kind=TicketKind.INCIDENT,
            category="sanitation",
            category_label="环境卫生",
            priority=Priority.NORMAL,
            text=text,
            text_masked=text,
            reporter_id=world.resident,
            now=T0,
            policy=load_policy(),
        )
        return t.id


def deliverer(factory: sessionmaker[Session], config: ExchangeConfig, clock: Clock) -> WebhookDeliverer:
    settings = ExchangeSettings(backoff_base_s=10, max_attempts=3, concurrency=4)
    return WebhookDeliverer(factory, config, settings, clock, client=httpx.AsyncClient())


async def test_the_event_is_queued_in_the_changes_own_transaction(
    session_factory: sessionmaker[Session], world: World
) -> None:
    with pytest.raises(RuntimeError), session_factory.begin() as session:
        service.open_ticket(
            session,
            grid_id=world.grid,
            kind=TicketKind.INCIDENT,
            category="sanitation",
            category_label="环境卫生",
            priority=Priority.NORMAL,
            text="x",
            text_masked="x",
            reporter_id=None,
            now=T0,
            policy=load_policy(),
        )
        raise RuntimeError("the change rolls back")
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    number = open_one(session_factory, world)
    with session_factory() as session:
        events = session.scalars(select(WebhookEvent)).all()
        assert [(e.ticket_id, e.event_type.value) for e in events] == [(number, "ticket.created")]


async def test_each_carried_event_gets_its_webhook_event_in_the_same_statement(
    session_factory: sessionmaker[Session], world: World
) -> None:
    engine = session_factory.kw["bind"]
    seen: list[str] = []
    listener = lambda _c, _cur, statement, *_r: seen.append(" ".join(statement.split()))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        number = open_one(session_factory, world)
        with session_factory.begin() as session:
            ticket = service.get_ticket(session, number)
            service.note_similar(session, ticket, number, 0.5, T0)  # not carried: no webhook event
            service.add_reporter(session, ticket, world.resident2, None, T0)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    with session_factory() as session:
        events = dict(session.execute(select(TicketEvent.id, TicketEvent.action)).all())
        hooks = session.execute(select(WebhookEvent.ticket_event_id, WebhookEvent.event_type)).all()
    assert sorted((events[e], t.value) for e, t in hooks) == [
        ("create", "ticket.created"),
        ("report", "ticket.updated"),
    ]
    event_writes = [x for x in seen if "INSERT INTO ticket_events" in x]
    hook_writes = [x for x in seen if "INSERT INTO webhook_events" in x]
    assert len(event_writes) == 3 and len(hook_writes) == 2
    if engine.dialect.name == "postgresql":  # each carried event and its webhook event: one statement
        assert all("INSERT INTO ticket_events" in x for x in hook_writes), hook_writes


async def test_delivered_signed_retried_after_a_failure_and_never_doubled(
    session_factory: sessionmaker[Session], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # created: the first attempt fails (500); accepted: applied but the answer never comes (timeout)
    def plan(key: str, n: int) -> str:
        if n > 1:
            return "ok"
        return {"ticket.created": "fail", "ticket.updated": "hang"}.get(kinds.get(key, ""), "ok")

    kinds: dict[str, str] = {}
    with receiver(SECRET.encode(), plan) as (url, got):
        config = config_for(url, monkeypatch)
        clock = Clock()
        d = deliverer(session_factory, config, clock)
        number = open_one(session_factory, world)
        with session_factory.begin() as session:
            service.accept(session, number, SYSTEM_ACTOR, T0 + timedelta(minutes=5))
        with session_factory.begin() as session:
            webhooks.fan_out(session, config, T0, lambda s: s)
            for row in session.scalars(select(WebhookDelivery)):
                kinds[row.idempotency_key] = row.event_type.value

        first = await d.run_once()
        assert (first.delivered, first.retried) == (0, 2)
        with session_factory() as session:
            rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
            assert all(r.status is DeliveryStatus.PENDING and r.attempts == 1 for r in rows)
            # backoff: base 10 s, equal jitter → the retry waits between 5 and 10 s
            assert all(
                T0 + timedelta(seconds=5) <= r.next_attempt_at <= T0 + timedelta(seconds=10) for r in rows
            )
            assert {r.last_error for r in rows} == {"HTTP 500", "ReadTimeout"}

        assert (await d.run_once()).delivered == 0  # not due yet: nothing is sent early
        clock.now = T0 + timedelta(seconds=11)
        second = await d.run_once()
        assert second.delivered == 2
        clock.now = T0 + timedelta(hours=1)
        assert (await d.run_once()).delivered == 0  # delivered rows are never sent again
        await d.aclose()

    assert got.bad_signatures == 0
    assert sorted(got.receipts.values()) == [2, 2]  # each delivered twice …
    assert len(got.applied) == 2  # … and applied once per idempotency key
    bodies = sorted(got.applied.values(), key=lambda b: b["event_id"])
    assert [b["event"] for b in bodies] == ["ticket.created", "ticket.updated"]
    assert [b["change"]["to_status"] for b in bodies] == ["new", "accepted"]
    assert bodies[1]["ticket"]["status"] == "accepted"
    assert bodies[0]["ticket"]["service_code"] == "01"  # sanitation → the city's 环境卫生 code
    assert bodies[0]["ticket"]["number"] == number
    assert bodies[0]["schema"] == webhooks.SCHEMA


async def test_a_permanent_refusal_and_exhausted_attempts_end_in_the_dead_letter_list(
    session_factory: sessionmaker[Session], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiver(b"a-different-secret") as (url, got):  # every signature is refused: 401
        config = config_for(url, monkeypatch)
        clock = Clock()
        d = deliverer(session_factory, config, clock)
        open_one(session_factory, world)
        result = await d.run_once()
        await d.aclose()
    assert (result.delivered, result.dead) == (0, 1)
    assert got.bad_signatures == 1
    with session_factory.begin() as session:
        (dead,) = webhooks.dead_letters(session)
        assert (dead.last_status_code, dead.attempts) == (401, 1)
        assert webhooks.retry_dead(session, dead.id, T0)
    with session_factory() as session:
        assert webhooks.dead_letters(session) == []

    # a receiver that keeps failing: dead after max_attempts (3), with growing waits between
    with receiver(SECRET.encode(), lambda key, n: "fail") as (url, got):
        d = deliverer(session_factory, config_for(url, monkeypatch), clock)
        for _ in range(3):
            await d.run_once()
            clock.now += timedelta(minutes=5)
        await d.aclose()
    with session_factory() as session:
        (dead,) = webhooks.dead_letters(session)
        assert (dead.attempts, dead.last_error) == (3, "HTTP 500")
    assert sum(got.receipts.values()) == 3


def test_backoff_grows_exponentially_with_jitter() -> None:
    rng = random.Random(1)
    waits = [webhooks.backoff(n, 10, rng).total_seconds() for n in range(1, 6)]
    for n, wait in enumerate(waits, start=1):
        assert 10 * 2 ** (n - 1) / 2 <= wait <= 10 * 2 ** (n - 1)
    assert webhooks.backoff(40, 10, rng) <= webhooks.MAX_BACKOFF


def test_signature_verifies_and_rejects_tampering_and_replays() -> None:
    body = json.dumps({"a": 1})
    sig = webhooks.sign(b"k", 1_700_000_000, body)
    assert webhooks.verify(b"k", 1_700_000_000, body, sig, 1_700_000_010)
    assert not webhooks.verify(b"k", 1_700_000_000, body + " ", sig, 1_700_000_010)
    assert not webhooks.verify(b"k", 1_700_000_000, body, sig, 1_700_001_000)  # too old

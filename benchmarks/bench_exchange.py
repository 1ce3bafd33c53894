"""Exchange benchmark: webhook throughput to a real local HTTP receiver, and retry behaviour.

    python benchmarks/bench_exchange.py [--events 2000] [--fail-rate 0.3] [--hang-rate 0.02]
    python benchmarks/bench_exchange.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Scenario 1 (throughput): N tickets are opened through the lifecycle (one `ticket.created` event
each), then the deliverer fans them out and POSTs them signed to a receiver on 127.0.0.1 that
answers 200; prints deliveries per second and the fan-out cost.
Scenario 2 (retries): the receiver fails each delivery's first attempt with probability
--fail-rate (HTTP 500) and, with --hang-rate, applies it but never answers (the client times out:
the partner has the event, the sender does not know). The clock jumps past each backoff, rounds run
until nothing is due; prints attempts per delivery, receipts vs. unique keys (at-least-once on the
wire), events applied twice (must be 0: the receiver dedupes by Idempotency-Key), and dead letters.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
from bench_db import pg_schema_engine, sqlite_engine
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gridbot.bot.webhooks import WebhookDeliverer  # noqa: E402
from gridbot.models.db import make_session_factory  # noqa: E402
from gridbot.models.entities import WebhookDelivery  # noqa: E402
from gridbot.models.enums import Priority, Role, TicketKind  # noqa: E402
from gridbot.models.exchange.config import ExchangeConfig, Subscriber, load_config  # noqa: E402
from gridbot.models.migrate import upgrade  # noqa: E402
from gridbot.models.org import directory as d  # noqa: E402
from gridbot.models.settings import ExchangeSettings  # noqa: E402
from gridbot.models.tickets.service import open_ticket  # noqa: E402
from gridbot.models.tickets.sla import load_policy  # noqa: E402
from tests.webhook_receiver import receiver  # noqa: E402

SECRET = "bench-secret"
T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def seed(sf: sessionmaker[Session], n: int) -> float:
    """A city NJ with 10 grids; n tickets opened one transaction each; returns tickets/s."""
    with sf.begin() as s:
        city = d.create_region(s, "NJ", "南京市")
        district = d.create_region(s, "NJ-D", "区", city)
        community = d.create_region(s, "NJ-C", "社区", d.create_region(s, "NJ-S", "街道", district))
        grids = []
        for g in range(10):
            grid = d.create_grid(s, f"G{g}", f"网格{g}", community)
            d.assign_role(s, d.ensure_person(s, f"wx-w{g}", f"网格员{g}"), Role.GRIDWORKER, grid=grid)
            grids.append(grid.id)
    policy = load_policy()
    t0 = time.perf_counter()
    for i in range(n):
        with sf.begin() as s:
            open_ticket(
                s,
                grid_id=grids[i % 10],
                kind=TicketKind.INCIDENT,
                category="sanitation",
                category_label="环境卫生",
                priority=Priority.NORMAL,
                text=f"垃圾没人清运 {i}",
                text_masked=f"垃圾没人清运 {i}",
                reporter_id=None,
                now=T0,
                policy=policy,
            )
    return n / (time.perf_counter() - t0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def run(engine: Engine, events: int, fail_rate: float, hang_rate: float, label: str) -> None:
    upgrade(engine)
    sf = make_session_factory(engine)
    rate = seed(sf, events)
    os.environ["BENCH_HOOK_SECRET"] = SECRET
    rng = random.Random(7)
    fails = {k for k in range(events) if rng.random() < fail_rate}
    hangs = {k for k in range(events) if rng.random() < hang_rate}
    seen: dict[str, int] = {}

    def plan(key: str, n: int) -> str:
        if mode[0] == "ok" or n > 1:
            return "ok"
        idx = seen.setdefault(key, len(seen))
        return "hang" if idx in hangs else "fail" if idx in fails else "ok"

    mode = ["ok"]
    settings = ExchangeSettings(batch_size=200, concurrency=16, backoff_base_s=10, max_attempts=8)
    with receiver(SECRET.encode(), plan) as (url, got):
        sub = Subscriber(name="bench", url=url, secret_env="BENCH_HOOK_SECRET", region="NJ", timeout_s=1.0)
        config = ExchangeConfig(cities=load_config().cities, subscribers=(sub,))
        clock = Clock()
        deliverer = WebhookDeliverer(sf, config, settings, clock, client=httpx.AsyncClient())
        # scenario 1: throughput (every delivery answered 200)
        t0 = time.perf_counter()
        delivered = rounds = 0
        retried = 0
        while delivered < events:
            r = await deliverer.run_once()
            delivered += r.delivered
            retried += r.retried
            rounds += 1
            if r.delivered + r.retried + r.dead == 0:
                clock.now += timedelta(minutes=10)  # only retries left: jump past their backoff
        elapsed = time.perf_counter() - t0
        print(
            f"[{label}] tickets opened through the lifecycle (webhook event queued in the same transaction): {rate:.0f}/s"
        )
        print(
            f"[{label}] throughput: {events} webhooks fanned out + signed + POSTed + recorded in {elapsed:.2f} s "
            f"= {events / elapsed:.0f}/s ({rounds} rounds of ≤{settings.batch_size}, concurrency {settings.concurrency}; {retried} attempts failed)"
        )
        # scenario 2: retries — a second batch of events with failures injected on first attempts
        mode[0] = "faulty"
        seed_more(sf, events)
        receipts_before = sum(got.receipts.values())
        applied_before = len(got.applied)
        t0 = time.perf_counter()
        rounds = 0
        while True:
            r = await deliverer.run_once()
            rounds += 1
            with sf() as s:
                waiting = s.scalars(
                    select(WebhookDelivery.next_attempt_at).where(WebhookDelivery.status == "pending")
                ).all()
            if not waiting and r.delivered + r.retried + r.dead == 0:
                break
            if waiting:
                clock.now = max(clock.now, min(waiting))
        elapsed = time.perf_counter() - t0
        await deliverer.aclose()
    with sf() as s:
        rows = s.scalars(select(WebhookDelivery).where(WebhookDelivery.id > events)).all()
    attempts = Counter(r.attempts for r in rows)
    statuses = Counter(r.status.value for r in rows)
    receipts = sum(got.receipts.values()) - receipts_before
    applied = len(got.applied) - applied_before
    keys = {r.idempotency_key for r in rows}
    resent_after_applied = sum(1 for k in keys if got.receipts[k] > 1 and k in hang_keys(seen, hangs))
    print(
        f"[{label}] retries: {len(rows)} deliveries; first attempts that failed with HTTP 500: "
        f"{sum(1 for k in keys if seen.get(k) in fails and seen.get(k) not in hangs)}, "
        f"applied by the receiver but timed out: {resent_after_applied}"
    )
    print(f"[{label}]   attempts per delivery: {dict(sorted(attempts.items()))}; statuses: {dict(statuses)}")
    print(
        f"[{label}]   {receipts} receipts on the wire for {applied} unique idempotency keys; re-sent after "
        f"the partner already had it: {resent_after_applied} (a receiver ignoring the key would apply "
        f"these twice); applied twice by key: {applied - len(keys) if applied > len(keys) else 0}; "
        f"dead letters: {statuses.get('dead', 0)}"
    )
    print(
        f"[{label}]   drained in {rounds} rounds, {elapsed:.2f} s wall (backoff waits skipped by the clock)"
    )


def hang_keys(seen: dict[str, int], hangs: set[int]) -> set[str]:
    """Keys whose first attempt the receiver applied without answering."""
    return {k for k, i in seen.items() if i in hangs}


def seed_more(sf: sessionmaker[Session], n: int) -> None:
    policy = load_policy()
    with sf() as s:
        from gridbot.models.entities import Grid

        grids = list(s.scalars(select(Grid.id)))
    for i in range(n):
        with sf.begin() as s:
            open_ticket(
                s,
                grid_id=grids[i % len(grids)],
                kind=TicketKind.INCIDENT,
                category="noise",
                category_label="噪音扰民",
                priority=Priority.NORMAL,
                text=f"楼上装修太吵 {i}",
                text_masked=f"楼上装修太吵 {i}",
                reporter_id=None,
                now=T0,
                policy=policy,
            )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=2000)
    p.add_argument("--fail-rate", type=float, default=0.3)
    p.add_argument("--hang-rate", type=float, default=0.02)
    p.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    args = p.parse_args()
    with sqlite_engine() as engine:
        anyio.run(run, engine, args.events, args.fail_rate, args.hang_rate, "SQLite")
    if args.pg_url:
        with pg_schema_engine(args.pg_url) as engine:
            anyio.run(run, engine, args.events, args.fail_rate, args.hang_rate, "PostgreSQL")


if __name__ == "__main__":
    main()

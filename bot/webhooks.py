"""The webhook deliverer: fans ticket events out to partners and POSTs them, signed, with retries.

Runs as its own loop (`gridbot exchange run`), or inside the bot next to the outbox sender. Safe in
several processes at once: rows are claimed with SKIP LOCKED on PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio
import httpx
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.db import database_down
from gridbot.models.entities.exchange import DeliveryStatus
from gridbot.models.exchange import webhooks
from gridbot.models.exchange.config import ExchangeConfig, Subscriber
from gridbot.models.settings import ExchangeSettings
from gridbot.nlp.pii import mask

logger = logging.getLogger(__name__)
RETRYABLE_4XX = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Attempt:
    """The outcome of one POST: the status code (None: no answer), an error, whether it is final."""

    row: webhooks.Due
    code: int | None
    error: str | None
    permanent: bool
    retry_after: float | None


@dataclass
class RoundResult:
    """What one delivery round did."""

    queued: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0


class WebhookDeliverer:
    """Delivers due webhook rows; one `run_once` is one round (fan out, claim, POST, record)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: ExchangeConfig,
        settings: ExchangeSettings,
        clock: Callable[[], datetime],
        client: httpx.AsyncClient | None = None,
        instance_id: str = "local",
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.settings = settings
        self.clock = clock
        self.client = client
        self._own_client = False
        self.worker_id = f"{instance_id[:40]}/{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.subscribers = {s.name: s for s in config.subscribers}
        for sub in config.subscribers:
            sub.secret()  # fail at start-up, naming the variable, rather than on the first event

    def _fan_out_and_claim(self) -> tuple[int, list[webhooks.Due]]:
        now = self.clock()
        with self.sessions.begin() as session:
            webhooks.release_stale(session, now, self.settings.stale_claim_s)
            queued = webhooks.fan_out(session, self.config, now, mask, limit=self.settings.batch_size * 5)
        with self.sessions.begin() as session:
            due = webhooks.claim_due(session, now, self.settings.batch_size, self.worker_id)
        return queued, due

    async def run_once(self) -> RoundResult:
        """One round; returns counts (the benchmark and tests read them).

        The outcomes of a round are recorded together in one transaction after its POSTs: a crash
        in between re-sends that round's deliveries (same bodies, same idempotency keys).
        """
        queued, due = await anyio.to_thread.run_sync(self._fan_out_and_claim)
        result = RoundResult(queued=queued)
        if not due:
            return result
        if self.client is None:
            self.client = httpx.AsyncClient(follow_redirects=False)
            self._own_client = True
        limiter = anyio.Semaphore(self.settings.concurrency)
        outcomes: list[Attempt] = []
        async with anyio.create_task_group() as tg:
            for row in due:
                tg.start_soon(self._deliver, self.client, row, limiter, outcomes)
        for status in await anyio.to_thread.run_sync(self._record, outcomes):
            if status is DeliveryStatus.DELIVERED:
                result.delivered += 1
            elif status is DeliveryStatus.DEAD:
                result.dead += 1
            elif status is DeliveryStatus.PENDING:
                result.retried += 1
        return result

    async def aclose(self) -> None:
        """Close the HTTP client this deliverer opened (an injected one is left open)."""
        if self.client is not None and self._own_client:
            await self.client.aclose()
            self.client = None

    async def _deliver(
        self, client: httpx.AsyncClient, row: webhooks.Due, limiter: anyio.Semaphore, out: list[Attempt]
    ) -> None:
        sub = self.subscribers.get(row.subscriber)
        if sub is None:
            out.append(Attempt(row, None, "subscriber no longer configured", True, None))
            return
        async with limiter:
            out.append(await self._post(client, sub, row))

    async def _post(self, client: httpx.AsyncClient, sub: Subscriber, row: webhooks.Due) -> Attempt:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "gridbot-webhooks/1",
            webhooks.EVENT_HEADER: row.event_type,
            webhooks.KEY_HEADER: row.idempotency_key,
            webhooks.TIMESTAMP_HEADER: str(timestamp),
            webhooks.SIGNATURE_HEADER: webhooks.sign(sub.secret(), timestamp, row.body),
            "X-Gridbot-Attempt": str(row.attempt),
        }
        try:
            response = await client.post(
                sub.url, content=row.body.encode(), headers=headers, timeout=sub.timeout_s
            )
        except httpx.HTTPError as exc:
            return Attempt(row, None, type(exc).__name__, False, None)
        code = response.status_code
        if 200 <= code < 300:
            return Attempt(row, code, None, False, None)
        permanent = 400 <= code < 500 and code not in RETRYABLE_4XX
        return Attempt(
            row, code, f"HTTP {code}", permanent, _retry_after(response.headers.get("Retry-After"))
        )

    def _record(self, attempts: list[Attempt]) -> list[DeliveryStatus | None]:
        """Write a round's outcomes in one transaction."""
        now = self.clock()
        statuses: list[DeliveryStatus | None] = []
        with self.sessions.begin() as session:
            for a in attempts:
                if a.error is None and a.code is not None:
                    ok = webhooks.mark_delivered(session, a.row.id, now, a.code)
                    statuses.append(DeliveryStatus.DELIVERED if ok else None)
                    continue
                status = webhooks.mark_failed(
                    session,
                    a.row.id,
                    now,
                    a.error or "failed",
                    status_code=a.code,
                    permanent=a.permanent,
                    backoff_base_s=self.settings.backoff_base_s,
                    max_attempts=self.settings.max_attempts,
                    retry_after_s=a.retry_after,
                )
                if status is DeliveryStatus.DEAD:
                    logger.warning("webhook %s to %s dead-lettered: %s", a.row.id, a.row.subscriber, a.error)
                statuses.append(status)
        return statuses

    async def run(self, stop: anyio.Event) -> None:
        """Rounds until `stop`; a full round goes again at once, an idle one waits `interval_s`."""
        while not stop.is_set():
            try:
                result = await self.run_once()
            except Exception as exc:
                if not database_down(exc):
                    raise
                logger.warning("webhook round skipped: database unreachable (%s)", type(exc).__name__)
                result = RoundResult()
            if result.delivered + result.retried + result.dead >= self.settings.batch_size:
                continue
            with anyio.move_on_after(self.settings.interval_s):
                await stop.wait()


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None

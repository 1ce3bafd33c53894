"""Crash safety: ~1,100 transcript lines replayed by `gridbot replay` on PostgreSQL, SIGKILLed 50 times.

A seeded plan (GRIDBOT_CRASH_SEED to reproduce another one) mixes failpoints and SIGKILLs at
random moments; each kill is confirmed (return code -9) and the replay restarted, until a last run
completes. The result is compared with a reference run of the same transcript without kills:

- every transcript line stored exactly once, none left PENDING, each with the reference's status;
- the same tickets (status, category, reporter, version) and no two from one message;
- the same outbox rows, all SENT; each outbox id in exactly one `sent.jsonl` record, none missing;
- the same reminder log; every ticket's event trail replays through models.lifecycle.RULES to its
  status, and matches the reference's trail.

PostgreSQL sequences are not transactional: a ticket inserted by a killed transaction burns its
number, so the crash run's ticket numbers (and event, person, outbox ids) may run ahead of the
reference's. Tickets are therefore matched by the platform id of the message that filed them, and
`#12` in a text, `event:<id>` and `sla:<sweep>:<person>` in a dedupe key are rewritten to those
stable names before comparing.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gridbot.bot.journal import SENT, read_records
from gridbot.bot.replay import Replay, read_transcript
from gridbot.models.entities import Message, Outbox, Person, ReminderLog, Ticket, TicketEvent
from gridbot.models.enums import MessageDirection, MessageStatus, OutboxStatus, TicketStatus
from gridbot.models.failpoints import POINTS
from gridbot.models.tickets.lifecycle import RULES, Action
from gridbot.nlp.classifier import default_cache_dir
from gridbot.nlp.fast import default_model_dir
from tests.faults.crashkit import (
    Attempt,
    Replayer,
    build_transcript,
    plan_kills,
    setup_world,
    write_transcript,
)
from tests.pg import Schema, pg_schema

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PG_ENV = "GRIDBOT_TEST_DATABASE_URL"
SEED = int(os.environ.get("GRIDBOT_CRASH_SEED", "20261123"))
KILLS = int(os.environ.get("GRIDBOT_CRASH_KILLS", "50"))
TAIL_HOURS = 3.0


@pytest.fixture(scope="module")
def base_url() -> str:
    """The shared PostgreSQL server (this test works in schemas of its own)."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: the crash-recovery test needs PostgreSQL")
    return url


@pytest.fixture(scope="module")
def model_dir() -> Path:
    """The default classifier model, built once if absent; every subprocess loads it from here."""
    return default_model_dir(default_cache_dir())


# ---- what the database holds, in names that survive renumbering -----------------------------------


@dataclass
class Snapshot:
    """One run's outcome keyed by stable names (see the module docstring)."""

    inbound: Counter[str]  # platform id → rows stored
    statuses: dict[str, MessageStatus]
    message_ticket: dict[str, str | None]
    tickets: dict[str, dict[str, Any]]
    trails: dict[str, list[tuple[str, str | None, str | None]]]
    ticket_versions: dict[str, int]
    numbers: dict[str, int]
    sources: Counter[int | None]
    outbox: dict[str, tuple[OutboxStatus, str]]
    outbox_ids: dict[int, OutboxStatus]
    reminders: Counter[tuple[Any, ...]]


def _ticket_key(t: Ticket, sources: dict[int, str]) -> str:
    if t.source_message_id is not None and t.source_message_id in sources:
        return sources[t.source_message_id]
    return f"filed@{t.created_at.isoformat()}:{t.text}"


def snapshot(engine: Engine) -> Snapshot:
    """Read one schema's messages, tickets, events, outbox and reminders."""
    with Session(engine) as s:
        messages = s.scalars(select(Message).order_by(Message.id)).all()
        platform = {m.id: m.platform_id for m in messages}
        people = {p.id: p.platform_id or f"person:{p.name}" for p in s.scalars(select(Person))}
        tickets = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        key = {t.id: _ticket_key(t, platform) for t in tickets}
        events = s.scalars(select(TicketEvent).order_by(TicketEvent.id)).all()
        rows = s.scalars(select(Outbox).order_by(Outbox.id)).all()
        reminders = s.scalars(select(ReminderLog)).all()

    def names(value: str) -> str:  # "#12" → "#<key of ticket 12>"
        return re.sub(r"#(\d+)", lambda m: f"#<{key.get(int(m.group(1)), m.group(1))}>", value)

    trails: dict[str, list[tuple[str, str | None, str | None]]] = {}
    event_name: dict[int, str] = {}
    for e in events:
        trail = trails.setdefault(key[e.ticket_id], [])
        event_name[e.id] = f"{key[e.ticket_id]}#{len(trail)}"
        trail.append((e.action, e.from_status and e.from_status.value, e.to_status and e.to_status.value))

    def dedupe(row: Outbox) -> str:
        kind, _, rest = row.dedupe_key.partition(":")
        if kind == "event":
            return f"event:{event_name.get(int(rest), rest)}"
        if kind == "sla":  # sla:<random sweep id>:<person id>:<part>: the sweep's time names it
            _sweep, person, part = rest.split(":")
            return f"sla:{row.created_at.isoformat()}:{people.get(int(person), person)}:{part}"
        return row.dedupe_key

    inbound = [m for m in messages if m.direction is MessageDirection.INBOUND]
    return Snapshot(
        inbound=Counter(m.platform_id for m in inbound),
        statuses={m.platform_id: m.status for m in inbound},
        message_ticket={m.platform_id: key.get(m.ticket_id) if m.ticket_id else None for m in inbound},
        tickets={
            key[t.id]: {
                "status": t.status,
                "kind": t.kind,
                "category": t.category,
                "priority": t.priority,
                "reporter": people.get(t.reporter_id) if t.reporter_id else None,
                "assignee": people.get(t.assignee_id) if t.assignee_id else None,
                "merged_into": key.get(t.merged_into_id) if t.merged_into_id else None,
                "cycle": t.cycle,
                "escalation_level": t.escalation_level,
                "text": t.text,
            }
            for t in tickets
        },
        trails=trails,
        ticket_versions={key[t.id]: t.version for t in tickets},
        numbers={key[t.id]: t.id for t in tickets},
        sources=Counter(t.source_message_id for t in tickets),
        outbox={dedupe(r): (r.status, names(r.text)) for r in rows},
        outbox_ids={r.id: r.status for r in rows},
        reminders=Counter(
            (key[r.ticket_id], r.deadline_kind, r.cycle, r.level, people.get(r.recipient_id or 0), r.fired_at)
            for r in reminders
        ),
    )


def replay_trail(trail: list[tuple[str, str | None, str | None]]) -> TicketStatus:
    """Walk a ticket's events through the lifecycle table; the status they lead to."""
    assert trail and trail[0] == ("create", None, TicketStatus.NEW.value), trail[:1]
    state = TicketStatus.NEW
    for action, before, after in trail[1:]:
        if action not in {a.value for a in Action}:
            assert before is None and after is None, (action, before, after)
            continue
        moves = RULES[Action(action)].moves
        assert before == state.value, f"{action}: trail says from {before}, the ticket was {state}"
        assert state in moves, f"{action} is not allowed from {state}"
        expected = moves[state] or state
        assert after == expected.value, f"{action} from {state} led to {after}, not {expected}"
        state = expected
    return state


# ---- the test -------------------------------------------------------------------------------------


@pytest.fixture
def schemas(base_url: str) -> Iterator[tuple[Schema, Schema]]:
    """Two private schemas: the crash run's and the reference's."""
    pid = os.getpid()
    with pg_schema(base_url, f"crash_{pid}") as crash, pg_schema(base_url, f"crash_ref_{pid}") as ref:
        yield crash, ref


def test_fifty_kills_lose_nothing_and_send_nothing_twice(
    tmp_path: Path, schemas: tuple[Schema, Schema], model_dir: Path
) -> None:
    began = time.monotonic()
    crash_db, ref_db = schemas
    rows = build_transcript()
    transcript = write_transcript(tmp_path / "transcript.jsonl", rows)
    lines = read_transcript(transcript)
    for schema in schemas:
        with Session(schema.engine) as s, s.begin():
            setup_world(s, rows)

    reference = Replayer(transcript, tmp_path / "ref-journal", ref_db.url, model_dir, TAIL_HOURS)
    ref_result: list[Attempt] = []
    ref_thread = threading.Thread(target=lambda: ref_result.append(reference.run(None)))
    ref_thread.start()

    crash = Replayer(transcript, tmp_path / "journal", crash_db.url, model_dir, TAIL_HOURS)
    plan = plan_kills(SEED, KILLS, len(lines))
    in_window: list[tuple[int, list[int]]] = []  # (kill number, rows SENDING and already in the journal)
    log: list[str] = []

    def context() -> str:
        return (
            f"seed {SEED}, kill plan:\n"
            + "\n".join(f"  {i:2d}. {k}" for i, k in enumerate(plan))
            + ("\nwhat happened:\n" + "\n".join(log))
        )

    for i, kill in enumerate(plan):
        attempt = crash.run(kill)
        how = "fallback SIGKILL" if attempt.fallback else "killed"
        log.append(
            f"  {i:2d}. {kill}: {how} (rc {attempt.returncode}) after {len(attempt.handled)} lines "
            f"from line {attempt.resumed_at + 1}, {attempt.reclaimed} claims taken back at start"
        )
        assert attempt.returncode == -9, (
            f"attempt {i} ({kill}) ended with {attempt.returncode}, not a kill\n"
            f"{crash.stderr(i)[-3000:]}\n{context()}"
        )
        with Session(crash_db.engine) as s:
            sending = list(s.scalars(select(Outbox.id).where(Outbox.status == OutboxStatus.SENDING)))
        journal = {o for r in read_records(crash.journal / SENT) for o in r.get("outbox_ids", ())}
        if delivered := [row for row in sending if row in journal]:
            in_window.append((i, delivered))

    reached = {a.kill.point for a in crash.attempts if a.kill and a.kill.point and not a.fallback}
    assert reached == set(POINTS), f"failpoints never reached: {set(POINTS) - reached}\n{context()}"

    final = crash.run(None)
    assert final.returncode == 0, f"the last run failed:\n{crash.stderr(len(plan))[-3000:]}\n{context()}"
    assert final.stdout[-1].startswith("replay finished"), final.stdout[-3:]
    ref_thread.join(timeout=600)
    assert ref_result and ref_result[0].returncode == 0, reference.stderr(0)[-3000:]

    got, want = snapshot(crash_db.engine), snapshot(ref_db.engine)
    why = context()

    # every transcript line stored exactly once, none left pending, handled as in the reference
    ids = {Replay.platform_id(line, n) for n, line in enumerate(lines)}
    assert set(got.inbound) == ids == set(want.inbound), why
    assert max(got.inbound.values()) == 1, why
    assert not [p for p, st in got.statuses.items() if st is MessageStatus.PENDING], why
    assert got.statuses == want.statuses, _diff(got.statuses, want.statuses, why)
    assert got.message_ticket == want.message_ticket, _diff(got.message_ticket, want.message_ticket, why)

    # the same tickets, none filed twice from one message
    assert got.tickets == want.tickets, _diff(got.tickets, want.tickets, why)
    assert max(n for src, n in got.sources.items() if src is not None) == 1, why
    assert got.ticket_versions == want.ticket_versions, _diff(got.ticket_versions, want.ticket_versions, why)

    # the same outbox, all sent; the journal holds each sent row exactly once
    assert got.outbox == want.outbox, _diff(got.outbox, want.outbox, why)
    assert {st for st, _ in got.outbox.values()} == {OutboxStatus.SENT}, why
    records = read_records(crash.journal / SENT)
    counts = Counter(i for r in records for i in r["outbox_ids"])
    assert all(r["outbox_ids"] for r in records), "a journal record without outbox ids"
    twice = {i: n for i, n in counts.items() if n > 1}
    assert not twice, f"outbox rows sent more than once: {twice}\n{why}"
    assert set(counts) == set(got.outbox_ids), (
        f"missing from the journal: {sorted(set(got.outbox_ids) - set(counts))}; "
        f"unknown: {sorted(set(counts) - set(got.outbox_ids))}\n{why}"
    )

    # reminders, and every ticket's trail
    assert got.reminders == want.reminders, _diff(dict(got.reminders), dict(want.reminders), why)
    for name, trail in got.trails.items():
        assert replay_trail(trail) is got.tickets[name]["status"], f"{name}: {trail}"
    assert got.trails == want.trails, _diff(got.trails, want.trails, why)

    kinds = Counter(
        "SIGKILL (test)" if a.kill is None or not a.kill.point or a.fallback else a.kill.point
        for a in crash.attempts[:-1]
    )
    print(
        f"\ncrash recovery: seed {SEED}, {len(plan)} kills {dict(kinds)}; "
        f"{len(in_window)} kills left {sum(len(d) for _, d in in_window)} delivered-but-unmarked rows, "
        f"{sum(a.reclaimed for a in crash.attempts)} claims taken back at restarts, all reconciled; "
        f"{len(lines)} lines, {len(got.tickets)} tickets "
        f"({sum(got.numbers[k] != n for k, n in want.numbers.items())} numbered differently: burnt sequence values), "
        f"{len(got.outbox)} outbox rows, "
        f"{len(records)} messages sent; reference run {ref_result[0].seconds:.0f} s, "
        f"total {time.monotonic() - began:.0f} s"
    )


def _diff(got: dict[Any, Any], want: dict[Any, Any], why: str) -> str:
    keys = sorted(set(got) | set(want), key=str)
    lines = [
        f"  {k}: crash {got.get(k)!r} / reference {want.get(k)!r}" for k in keys if got.get(k) != want.get(k)
    ]
    return f"{len(lines)} differences:\n" + "\n".join(lines[:40]) + f"\n{why}"

"""Core benchmark: tickets created per second, and one deadline sweep over 100,000 open tickets.

    python benchmarks/bench_core.py                       # SQLite (a temporary file)
    python benchmarks/bench_core.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/bench_core.py --no-sqlite --tickets 20000 100000 --rounds 3 --pg-url …  # issue 19

PostgreSQL runs when --pg-url or GRIDBOT_TEST_DATABASE_URL is given, in a private schema that is
dropped afterwards. Tickets for the creation rate go through models.tickets.open_ticket, one
transaction each (as the bot files them); the rest of the 100,000 are bulk-inserted with their
deadlines, all overdue past every ladder level, so the sweep is the worst case after an outage:
3 deadlines per ticket told at level 4 (levels 1-3 recorded as passed over), digests written.

`--rounds N` sweeps the same data N times, undoing each sweep's writes (and vacuuming) in between,
so a noisy machine's spread is seen without filling again. On a local PostgreSQL server the
database backends' CPU time of the sweep is printed too: it varies less with the load than the
wall clock.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_db import pg_schema_engine, sqlite_engine  # a sibling module: run as python benchmarks/bench_*.py
from sqlalchemy import Engine, delete, event, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.db import make_session_factory
from gridbot.models.entities import Outbox, ReminderLog, ReminderQuiet, SweepWatermark, Ticket, TicketDeadline
from gridbot.models.enums import Priority, Role, TicketKind, TicketStatus
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.migrate import upgrade
from gridbot.models.org import directory as d
from gridbot.models.tickets.service import open_ticket
from gridbot.models.tickets.sla import SLAPolicy, load_policy
from gridbot.models.tickets.sweeper import sweep

GRIDS = 100
START = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai


def build_directory(sf: sessionmaker[Session]) -> list[int]:
    """A street with GRIDS grids, each with a gridworker, a leader and a bound room."""
    with sf.begin() as s:
        city = d.create_region(s, "C", "市")
        street = d.create_region(s, "S", "街道", d.create_region(s, "D", "区", city))
        community = d.create_region(s, "CM", "社区", street)
        admin = d.ensure_person(s, "wx-admin", "社区主任")
        d.assign_role(s, admin, Role.COMMUNITY_ADMIN, region=community)
        d.assign_role(s, d.ensure_person(s, "wx-street", "街道"), Role.STREET_ADMIN, region=street)
        grids = []
        for g in range(GRIDS):
            grid = d.create_grid(s, f"G{g}", f"网格{g}", community, households=300)
            d.bind_group(s, f"room-{g}@chatroom", grid, now=START)
            d.assign_role(s, d.ensure_person(s, f"wx-w{g}", f"网格员{g}"), Role.GRIDWORKER, grid=grid)
            d.assign_role(s, d.ensure_person(s, f"wx-l{g}", f"网格长{g}"), Role.GRID_LEADER, grid=grid)
            grids.append(grid.id)
        return grids


def create_rate(sf: sessionmaker[Session], grids: list[int], n: int, policy: SLAPolicy) -> float:
    """Tickets per second through the lifecycle's open_ticket, one transaction per ticket."""
    t0 = time.perf_counter()
    for i in range(n):
        with sf.begin() as s:
            open_ticket(
                s,
                grid_id=grids[i % len(grids)],
                kind=TicketKind.INCIDENT,
                category="property",
                category_label="物业服务",
                priority=Priority.NORMAL,
                text="电梯坏了",
                text_masked="电梯坏了",
                reporter_id=None,
                now=START,
                policy=policy,
            )
    return n / (time.perf_counter() - t0)


def bulk_fill(sf: sessionmaker[Session], grids: list[int], total: int, policy: SLAPolicy) -> None:
    """Insert tickets with their deadlines until `total` open tickets exist."""
    with sf() as s:
        have = s.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) or 0
        workers = dict(
            s.execute(text("SELECT grid_id, person_id FROM role_assignments WHERE role='gridworker'")).all()
        )
    rule = policy.rule_for(TicketKind.INCIDENT, "property", Priority.NORMAL)

    def created(i: int) -> datetime:
        return START + timedelta(seconds=i)  # one ticket a second: distinct deadlines, as in life

    chunk = 5000
    for base in range(have + 1, total + 1, chunk):
        ids = range(base, min(base + chunk, total + 1))
        tickets = [
            dict(
                id=i,
                kind=TicketKind.INCIDENT,
                category="property",
                priority=Priority.NORMAL,
                status=TicketStatus.NEW,
                grid_id=grids[i % len(grids)],
                assignee_id=workers[grids[i % len(grids)]],
                created_at=created(i),
                updated_at=created(i),
            )
            for i in ids
        ]
        dls = []
        for i in ids:
            for k, spec in rule.deadlines.items():
                sc = policy.schedule(spec, created(i))
                dls.append(
                    dict(
                        ticket_id=i,
                        kind=k,
                        cycle=0,
                        started_at=created(i),
                        due_at=sc.due_at,
                        warn_at=sc.warn_at,
                        escalate1_at=sc.escalate1_at,
                        escalate2_at=sc.escalate2_at,
                    )
                )
        with sf.begin() as s:
            s.execute(insert(Ticket), tickets)
            s.execute(insert(TicketDeadline), dls)


def backend_cpu(engine: Engine) -> Callable[[], float | None]:
    """CPU seconds used so far by the engine's PostgreSQL backends, when they run on this machine."""
    pids: set[int] = set()

    @event.listens_for(engine, "connect")
    def _pid(dbapi_conn: object, _record: object) -> None:
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        cur.execute("SELECT pg_backend_pid()")
        pids.add(cur.fetchone()[0])
        cur.close()
        dbapi_conn.commit()  # type: ignore[attr-defined]

    def used() -> float | None:
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a remote server, or a backend gone
                return None
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    return used


def undo_sweep(engine: Engine) -> None:
    """Put the data back as it was before the sweep: nothing logged (so nothing escalated), no watermark."""
    with engine.begin() as conn:
        conn.execute(delete(ReminderLog))
        conn.execute(delete(Outbox))
        conn.execute(delete(ReminderQuiet))
        conn.execute(
            update(SweepWatermark).values(swept_to=None, full_at=None, sweeping_to=None, holder=None)
        )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def run(
    label: str,
    engine: Engine,
    tickets: int,
    create: int,
    batch_size: int | None,
    since_start: bool = False,
    rounds: int = 1,
) -> None:
    """Print the figures for one database."""
    cpu = backend_cpu(engine) if engine.dialect.name == "postgresql" else lambda: None
    upgrade(engine)
    sf = make_session_factory(engine)
    policy = load_policy()
    grids = build_directory(sf)
    rate = create_rate(sf, grids, create, policy)
    print(f"[{label}] open_ticket: {rate:,.0f} tickets/s ({create} tickets, one transaction each)")
    bulk_fill(sf, grids, tickets, policy)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # what autovacuum's analyze would do after a bulk load
            conn.execute(text("ANALYZE"))
    now = START + timedelta(days=40)  # every level of every deadline is due
    walls = []
    for r in range(rounds):
        if r:
            undo_sweep(engine)
        if since_start:  # the last sweep ran at START: read from its watermark, not a full pass
            with engine.begin() as conn:
                conn.execute(update(SweepWatermark).values(swept_to=START, full_at=now - timedelta(hours=1)))
        cpu0 = cpu()
        t0 = time.perf_counter()
        res = sweep(sf, policy, now, LocalCoordinator(), **({"batch_size": batch_size} if batch_size else {}))
        walls.append(time.perf_counter() - t0)
        cpu1 = cpu()
        db = f", database CPU {cpu1 - cpu0:.2f} s" if cpu0 is not None and cpu1 is not None else ""
        print(
            f"[{label}] sweep over {tickets:,} open tickets: {walls[-1]:.2f} s{db} — {res.examined:,} deadlines, "
            f"{res.fired:,} levels told ({res.passed_over:,} passed over), {res.digests} digests, "
            f"{res.batches} batches of {batch_size or 'the default'} (load average {os.getloadavg()[0]:.1f})"
        )
    if rounds > 1:
        walls.sort()
        print(
            f"[{label}] sweep over {tickets:,}: min {walls[0]:.2f} s, median {walls[len(walls) // 2]:.2f} s, "
            f"max {walls[-1]:.2f} s over {rounds} rounds"
        )


def main() -> None:
    """Run on SQLite, then on PostgreSQL when a URL is given."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, nargs="+", default=[100_000], help="one run for each count")
    ap.add_argument("--rounds", type=int, default=1, help="sweeps of the same data, undone in between")
    ap.add_argument("--create", type=int, default=2_000, help="tickets filed through open_ticket")
    ap.add_argument("--batch-size", type=int, help="deadlines a transaction (default: the sweeper's)")
    ap.add_argument(
        "--watermark",
        action="store_true",
        help="a sweep from the last one's watermark (START), not a full pass",
    )
    ap.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    for tickets in args.tickets:
        if not args.no_sqlite:
            with sqlite_engine() as engine:
                run("sqlite", engine, tickets, args.create, args.batch_size, args.watermark, args.rounds)
        if args.pg_url:
            with pg_schema_engine(args.pg_url) as engine:
                run("postgresql", engine, tickets, args.create, args.batch_size, args.watermark, args.rounds)


if __name__ == "__main__":
    main()

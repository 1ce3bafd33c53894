"""Load benchmark: two `gridbot run --transport journal` processes on one PostgreSQL and one Redis,
fed a steady stream of group messages for a few minutes.

    python benchmarks/bench_load.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test \
        --redis-url redis://127.0.0.1:6379/0 --duration 300 --rate 8 --rooms 20 --min-interval 1 \
        --min-interval 0.05

Rooms are split between the two bots (both run as the same bot account, so outbound pacing is
shared through Redis). A feeder appends to the journals at `--rate` lines/s in total: about 64 %
chatter and 22 % reports from the shipped corpus, 9 % gridworker commands on tickets filed so far
(接单, 回复, 办结) and 5 % ratings by reporters of resolved tickets; it records when each line was
written. Reported per run (each `--min-interval` value is a run on a fresh schema):

- sustained handled lines/s over the feed window, handling latency p50/p95/p99 (the bot's
  `handled_at` minus the write time);
- outbox lag (models.outbox.lag, the oldest undelivered row) and backlog sampled every 10 s;
  outbound messages/s and outbox rows/s delivered;
- each bot's RSS sampled every 5 s (/proc/<pid>/status VmRSS): one sample a minute, and the
  least-squares slope in MB/min after the first minute and over the second half of the run (a
  warm-up shows in the first, a trend in both); and its CPU use.

The shipped daily send budget (3,000 messages) would stop the outbox within minutes at these
rates, so the bots run with `--daily-budget` (default 1,000,000). `--trace-memory DIR` runs them
with the memory probe of benchmarks/memtrace (a dump a minute; `benchmarks/memtrace_report.py`
compares them), `--trace-frames 1` adds tracemalloc.

Outbound pacing is one message per `min_interval_s` per bot account (1 s in production): that, not
the pipeline, bounds what the bots can say. A run with a small interval shows the pipeline's own
capacity. The schema and the Redis keys (a private prefix) are removed afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.faults.multikit: the shared kit

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from gridbot.models.entities import Person, Ticket, TicketReporter, utcnow  # noqa: E402
from gridbot.models.enums import TicketStatus  # noqa: E402
from gridbot.models.messaging import outbox  # noqa: E402
from gridbot.nlp.classifier import default_cache_dir  # noqa: E402
from gridbot.nlp.corpus import CORPUS_DIR  # noqa: E402
from gridbot.nlp.fast import default_model_dir  # noqa: E402
from tests.faults import multikit as mk  # noqa: E402
from tests.pg import Schema, pg_schema  # noqa: E402

RSS_EVERY_S, LAG_EVERY_S, DRAIN_S = 5.0, 10.0, 30.0
VERBS = {TicketStatus.NEW: "接单", TicketStatus.IN_PROGRESS: "办结"}
ACTIONABLE = (TicketStatus.NEW, TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED)


def corpus() -> tuple[list[str], list[str]]:
    """Chatter and report texts of the shipped corpus."""
    chatter: list[str] = []
    reports: list[str] = []
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                row = json.loads(raw)
                (chatter if row["kind"] == "chatter" else reports).append(row["text"])
    return chatter, reports


@dataclass
class Feeder:
    """Appends a realistic mix to the journals at a steady rate; remembers when each line was written."""

    world: mk.World
    journals: tuple[Path, Path]
    session: Session
    rate: float
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    written: dict[str, float] = field(default_factory=dict)
    done: set[tuple[int, str]] = field(default_factory=set)  # (ticket, action) already asked for
    work: list[tuple[int, int, TicketStatus, str | None]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def refresh(self) -> None:
        """Tickets the gridworkers and reporters may act on next (grid, number, status, reporter)."""
        self.session.rollback()  # a fresh snapshot
        rows = self.session.execute(
            select(Ticket.grid_id, Ticket.id, Ticket.status, Person.platform_id)
            .outerjoin(TicketReporter, TicketReporter.ticket_id == Ticket.id)
            .outerjoin(Person, Person.id == TicketReporter.person_id)
            .where(Ticket.status.in_(ACTIONABLE))
            .order_by(Ticket.id.desc())
            .limit(300)
        ).all()
        self.work = [(g, t, s, p) for g, t, s, p in rows]

    def action(self, room: mk.Room, want_rating: bool) -> tuple[mk.Staff, str] | None:
        """A command or rating on a ticket of this room's grid not yet acted on, if there is one."""
        for grid, number, status, reporter in self.work:
            if grid != room.grid_id:
                continue
            if want_rating and status is TicketStatus.RESOLVED and reporter:
                if (number, "rate") not in self.done:
                    self.done.add((number, "rate"))
                    who = next((r for r in room.residents if r.pid == reporter), None)
                    if who is not None:
                        return who, self.rng.choice("1112223")
            elif not want_rating and status is not TicketStatus.RESOLVED:
                verb = (
                    VERBS[status]
                    if status is not TicketStatus.ACCEPTED
                    else self.rng.choice(["办结", "回复"])
                )
                if (number, verb) not in self.done:
                    self.done.add((number, verb))
                    note = (
                        " 已处理完毕" if verb == "办结" else " 已联系物业，今天处理" if verb == "回复" else ""
                    )
                    return room.worker, f"{verb} #{number}{note}"
        return None

    def run(self, duration_s: float, chatter: list[str], reports: list[str]) -> None:
        """Feed for `duration_s` seconds, one line every 1/rate s."""
        files: list[IO[str]] = [(j / "inbound.jsonl").open("a", encoding="utf-8") for j in self.journals]
        rooms = self.world.rooms
        began = time.monotonic()
        next_refresh = began
        try:
            for i in range(int(duration_s * self.rate)):
                if self.stop.is_set():
                    break
                due = began + i / self.rate
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
                if now >= next_refresh:
                    self.refresh()
                    next_refresh = now + 2.0
                k = self.rng.randrange(len(rooms))
                room, roll = rooms[k], self.rng.random()
                acted = self.action(room, roll >= 0.95) if roll >= 0.86 else None
                if acted is not None:
                    who, text = acted
                elif roll < 0.22:
                    who, text = self.rng.choice(room.residents), self.rng.choice(reports)
                else:
                    who, text = self.rng.choice(room.residents), self.rng.choice(chatter)
                row = mk.inbound_line(f"L{i}", room.room, who, text)
                fh = files[k % 2]
                self.written[row["id"]] = time.time()
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                fh.flush()
        finally:
            for fh in files:
                fh.close()


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per minute."""
    if len(samples) < 2:
        return float("nan")
    ts, ys = [t for t, _ in samples], [y for _, y in samples]
    mt, my = statistics.fmean(ts), statistics.fmean(ys)
    var = sum((t - mt) ** 2 for t in ts)
    return 60 * sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / var if var else float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else float("nan")


def memtrace_env(directory: Path | None, frames: int, tag: str) -> dict[str, str]:
    """The bots' environment for the memory probe (benchmarks/memtrace), or nothing."""
    if directory is None:
        return {}
    probe = Path(__file__).resolve().parent / "memtrace"
    path = os.pathsep.join(p for p in (str(probe), os.environ.get("PYTHONPATH", "")) if p)
    return {
        "PYTHONPATH": path,
        "GRIDBOT_MEMTRACE_DIR": str(directory.resolve() / tag),
        "GRIDBOT_MEMTRACE_EVERY_S": "60",
        "GRIDBOT_MEMTRACE_FRAMES": str(frames),
    }


def one_run(args: argparse.Namespace, interval: float, model_dir: Path) -> dict[str, str]:
    """Start the two bots, feed them, sample, and return the figures."""
    tag = f"{os.getpid()}_{str(interval).replace('.', '_')}"
    tmp = Path(tempfile.mkdtemp(prefix="gridbot-load-"))
    with (
        pg_schema(args.pg_url, f"gridbot_load_{tag}") as schema,
        mk.redis_namespace(args.redis_url, f"gridbot-load-{tag}:") as prefix,
    ):
        with Session(schema.engine) as s, s.begin():
            world = mk.build_world(s, args.rooms, residents=30, tag="LD")
        env = mk.base_env(
            schema.url,
            args.redis_url,
            prefix,
            model_dir,
            tmp,
            GRIDBOT_OUTBOX__MIN_INTERVAL_S=str(interval),
            GRIDBOT_SLA__SWEEP_INTERVAL_S="30",
            GRIDBOT_OUTBOX__DAILY_BUDGET=str(args.daily_budget),
            **memtrace_env(args.trace_memory, args.trace_frames, tag),
        )
        journals = (tmp / "journal-1", tmp / "journal-2")
        bots = [mk.start_bot(f"bot-{n}", j, env, tmp, f"load-{n}") for n, j in enumerate(journals, 1)]
        try:
            figures = measure(args, interval, schema, world, journals, bots)
        finally:
            for b in bots:
                b.stop()
    shutil.rmtree(tmp)  # kept, with the bots' logs, when the run failed
    return figures


def measure(
    args: argparse.Namespace,
    interval: float,
    schema: Schema,
    world: mk.World,
    journals: tuple[Path, Path],
    bots: list[mk.Proc],
) -> dict[str, str]:
    """Feed for the duration while sampling RSS and outbox lag; then compute the figures."""
    # both bots ready (the classifier loaded, the journal followed) before the clock starts
    for n, j in enumerate(journals):
        mk.append_inbound(
            j, [mk.inbound_line(f"warm{n}", world.rooms[n].room, world.rooms[n].residents[0], "早")]
        )
    mk.wait_until(lambda: all(mk.handled(j) for j in journals), "both bots to start", 120)
    chatter, reports = corpus()
    feeder = Feeder(world, journals, Session(schema.engine), args.rate)
    thread = threading.Thread(target=feeder.run, args=(args.duration, chatter, reports), daemon=True)
    rss: list[list[tuple[float, float]]] = [[], []]
    lags: list[tuple[float, float, int]] = []
    try:
        cpu0 = [cpu_s(b.pid) for b in bots]
        began = time.monotonic()
        start_wall = time.time()
        thread.start()
        next_rss = next_lag = began
        with Session(schema.engine) as s:
            while thread.is_alive():
                now = time.monotonic()
                if now >= next_rss:
                    for n, b in enumerate(bots):
                        if (mb := mk.rss_mb(b.pid)) is not None:
                            rss[n].append((now - began, mb))
                    next_rss += RSS_EVERY_S
                if now >= next_lag:
                    s.rollback()
                    lags.append(
                        (now - began, outbox.lag(s, utcnow()).total_seconds(), outbox.pending_count(s))
                    )
                    next_lag += LAG_EVERY_S
                for b in bots:
                    if not b.alive():
                        raise RuntimeError(f"{b.name} died:\n{b.tail()}")
                thread.join(0.2)
            end_wall, feed_s = time.time(), time.monotonic() - began
            cpu = [cpu_s(b.pid) - c for b, c in zip(bots, cpu0, strict=True)]
            s.rollback()
            lag_end, backlog_end = outbox.lag(s, utcnow()).total_seconds(), outbox.pending_count(s)
    finally:
        feeder.stop.set()
        if thread.ident is not None:
            thread.join()
        feeder.session.close()  # an open snapshot would block dropping the schema
    written = feeder.written
    unhandled_end = len(written) - sum(
        1 for j in journals for h in mk.handled(j) if h["id"] in written and _ts(h["handled_at"]) <= end_wall
    )
    with contextlib.suppress(TimeoutError):  # let the backlog finish so every written line has a latency
        mk.wait_until(lambda: _handled(journals, written) >= len(written), "the backlog", DRAIN_S, poll_s=0.5)
    latencies, in_window = [], 0
    for j in journals:
        for h in mk.handled(j):
            if h["id"] in written:
                at = _ts(h["handled_at"])
                latencies.append((at - written[h["id"]]) * 1000)
                in_window += start_wall <= at <= end_wall
    sends = [r for j in journals for r in mk.sent(j) if start_wall <= mk.sent_at(r).timestamp() <= end_wall]
    late = [lag for t, lag, _ in lags if t >= 60]
    return {
        "min_interval_s": f"{interval:g}",
        "lines written (rate/s)": f"{len(written)} ({len(written) / feed_s:.2f})",
        "handled lines/s (feed window)": f"{in_window / feed_s:.2f}",
        "unhandled at end of feed": str(unhandled_end),
        "latency p50 / p95 / p99 ms": f"{pct(latencies, 0.5):.0f} / {pct(latencies, 0.95):.0f} / {pct(latencies, 0.99):.0f}",
        "latency max ms": f"{max(latencies, default=float('nan')):.0f}",
        "outbound msgs/s (rows/s)": f"{len(sends) / feed_s:.2f} ({sum(len(r['outbox_ids']) for r in sends) / feed_s:.2f})",
        "outbox lag after 1 min: median / max s": (
            f"{statistics.median(late):.1f} / {max(late):.1f}" if late else "n/a (run < 1 min)"
        ),
        "outbox lag, backlog at end": f"{lag_end:.1f} s, {backlog_end} rows",
        "lag samples (s)": " ".join(f"{lag:.0f}" for _, lag, _ in lags),
        "RSS bot1 / bot2 start→end MB": " / ".join(
            f"{r[0][1]:.0f}→{r[-1][1]:.0f}" if r else "-" for r in rss
        ),
        **{
            f"RSS bot{n + 1} each minute MB": " ".join(f"{mb:.1f}" for t, mb in r if t % 60 < RSS_EVERY_S)
            for n, r in enumerate(rss)
        },
        "RSS slope after 1 min MB/min": " / ".join(
            f"{slope_mb_per_min([x for x in r if x[0] >= 60]):+.2f}" for r in rss
        ),
        "RSS slope, second half MB/min": " / ".join(
            f"{slope_mb_per_min([x for x in r if x[0] >= feed_s / 2]):+.2f}" for r in rss
        ),
        "bot CPU % (of one core)": " / ".join(f"{100 * c / feed_s:.0f}" for c in cpu),
    }


def _ts(iso: str) -> float:
    at = datetime.fromisoformat(iso)
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _handled(journals: tuple[Path, Path], written: dict[str, float]) -> int:
    return sum(1 for j in journals for h in mk.handled(j) if h["id"] in written)


def main() -> None:
    """Run once per --min-interval and print the figures side by side."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    ap.add_argument("--redis-url", default=os.environ.get("GRIDBOT_TEST_REDIS_URL"))
    ap.add_argument("--duration", type=float, default=300.0, help="seconds of feeding per run")
    ap.add_argument("--rate", type=float, default=8.0, help="lines per second, both bots together")
    ap.add_argument("--rooms", type=int, default=20)
    ap.add_argument("--min-interval", type=float, action="append", help="outbox.min_interval_s (repeatable)")
    ap.add_argument(
        "--daily-budget",
        type=int,
        default=1_000_000,
        help="outbox.daily_budget (the shipped 3,000 stops the outbox within minutes at synthetic rates)",
    )
    ap.add_argument(
        "--trace-memory",
        type=Path,
        metavar="DIR",
        help="dump the bots' memory figures a minute into DIR (benchmarks/memtrace_report.py reads them)",
    )
    ap.add_argument(
        "--trace-frames",
        type=int,
        default=0,
        help="with --trace-memory: tracemalloc frames per allocation (0: no tracing, full speed)",
    )
    args = ap.parse_args()
    if not args.pg_url or not args.redis_url:
        ap.error(
            "--pg-url and --redis-url (or GRIDBOT_TEST_DATABASE_URL / GRIDBOT_TEST_REDIS_URL) are needed"
        )
    model_dir = default_model_dir(default_cache_dir())
    load = os.getloadavg()
    results = []
    for interval in args.min_interval or [1.0]:
        results.append(one_run(args, interval, model_dir))
        print(f"run with min_interval_s={interval:g} done", file=sys.stderr)
    print(
        f"\n{args.rooms} rooms, 2 bots, rate {args.rate:g}/s, {args.duration:g} s per run; "
        f"load average at start {load[0]:.2f} on {os.cpu_count()} cores, at end {os.getloadavg()[0]:.2f}"
    )
    width = max(len(k) for k in results[0])
    for key in results[0]:
        print(f"{key:<{width}}  " + "  |  ".join(r[key] for r in results))


if __name__ == "__main__":
    main()

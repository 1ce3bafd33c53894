"""Where the offered load's latency tail comes from: `bench_pipeline.py --offered` with a probe.

    python benchmarks/tail_probe.py OUT.json --offered 100 --seconds 60 --rooms 20 --pg-url URL

Runs the same open-loop load as `bench_pipeline.py --offered` and records, for every batch the
dispatcher hands over, when it was handed over, when its worker thread started, how long storing,
classifying and routing took, each message's route time and outcome, and every garbage collection
(generation, pause) that ran meanwhile; for every message, its arrival, its batch and when it was
handled. Writes them to OUT.json and prints where the slowest 1 % of messages spent their time:
waiting for the batch before theirs, or in their own batch (by stage), and what those batches held.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
from typing import Any

import bench_pipeline as bp  # a sibling module: run as python benchmarks/tail_probe.py

from gridbot.handlers import batch as batch_mod
from gridbot.handlers.conversation import Conversation

BATCHES: list[dict[str, Any]] = []
MESSAGES: dict[str, dict[str, Any]] = {}  # platform id → arrival, batch, handled
GCS: list[tuple[float, int, float, str]] = []  # (start, generation, pause s, thread)
GEN2: list[tuple[int, int, float]] = []  # a full collection's tracked objects, collected, CPU s
GC_CPU = [0.0, 0.0, 0.0]  # CPU seconds spent collecting, by generation (the pause above includes preemption)
_current = threading.local()
_gc_start: dict[int, float] = {}
_gc_cpu: dict[int, float] = {}


def _gc(phase: str, info: dict[str, Any]) -> None:
    now = time.perf_counter()
    ident = threading.get_ident()
    if phase == "start":
        _gc_start[ident] = now
        _gc_cpu[ident] = time.thread_time()
    elif (began := _gc_start.pop(ident, None)) is not None:
        cpu = time.thread_time() - _gc_cpu.pop(ident)
        GC_CPU[info["generation"]] += cpu
        if info["generation"] == 2:
            GEN2.append((len(gc.get_objects()), info["collected"], cpu))
        GCS.append((began, info["generation"], now - began, threading.current_thread().name))


def _wrap_handle_batch() -> None:
    original = Conversation.handle_batch
    original_process = Conversation.process_batch

    async def handle_batch(self: Conversation, msgs: Any) -> Any:
        record: dict[str, Any] = {
            "handed": time.perf_counter(),
            "size": len(msgs),
            "stages": {},
            "routes": [],
        }
        record["ids"] = [m.platform_id for m in msgs]
        record["rooms"] = len({m.room_id for m in msgs})
        BATCHES.append(record)
        for m in msgs:
            MESSAGES.setdefault(m.platform_id, {})["batch"] = len(BATCHES) - 1
        try:
            outcomes = await original(self, msgs)
        finally:
            record["done"] = time.perf_counter()
        record["outcomes"] = [o.status for o in outcomes]
        return outcomes

    def process_batch(self: Conversation, msgs: Any) -> Any:
        record = BATCHES[-1]
        record["thread"] = time.perf_counter()
        _current.record = record
        try:
            return original_process(self, msgs)
        finally:
            record["thread_done"] = time.perf_counter()
            _current.record = None

    Conversation.handle_batch = handle_batch  # type: ignore[method-assign]
    Conversation.process_batch = process_batch  # type: ignore[method-assign]

    def staged(name: str, fn: Any) -> Any:
        def inner(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                record = getattr(_current, "record", None)
                if record is not None:
                    record["stages"][name] = record["stages"].get(name, 0.0) + time.perf_counter() - began

        return inner

    batch_mod._persist = staged("persist", batch_mod._persist)
    batch_mod._route = staged("route", batch_mod._route)
    original_dispatch = Conversation._dispatch

    def dispatch(self: Conversation, ctx: Any) -> Any:
        began = time.perf_counter()
        outcome = original_dispatch(self, ctx)
        record = getattr(_current, "record", None)
        if record is not None:
            record["routes"].append((outcome.status, time.perf_counter() - began))
        return outcome

    Conversation._dispatch = dispatch  # type: ignore[method-assign]
    original_alone = Conversation._route

    def alone(self: Conversation, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original_alone(self, *args, **kwargs)
        finally:
            record = getattr(_current, "record", None)
            if record is not None:
                record["stages"]["alone"] = record["stages"].get("alone", 0.0) + time.perf_counter() - began

    Conversation._route = alone  # type: ignore[method-assign]

    load = bp.load_classifier

    def load_classifier() -> Any:
        clf = load()
        original_cb = clf.classify_batch

        def classify_batch(texts: Any) -> Any:
            began = time.perf_counter()
            try:
                return original_cb(texts)
            finally:
                record = getattr(_current, "record", None)
                if record is not None:
                    stages = record["stages"]  # the batch's call, and any message classified alone
                    stages["classify"] = stages.get("classify", 0.0) + time.perf_counter() - began

        clf.classify_batch = classify_batch
        return clf

    bp.load_classifier = load_classifier


def _wrap_incoming() -> None:
    """Arrival (the line's due time) and handled time per message, from the benchmark's callback."""
    original_incoming = bp.Replay.incoming

    def incoming(self: Any, line: Any, n: int) -> Any:
        msg = original_incoming(self, line, n)
        MESSAGES.setdefault(msg.platform_id, {})["offered"] = time.perf_counter()
        return msg

    bp.Replay.incoming = incoming  # type: ignore[method-assign]
    original_record = bp.Replay.record

    def record(self: Any, line: Any, outcome: Any) -> Any:
        result = original_record(self, line, outcome)
        return result

    bp.Replay.record = record  # type: ignore[method-assign]


def report(out: str) -> None:
    """Attribute the slowest 1 % of messages to the batch before theirs and their own batch's stages."""
    for b in BATCHES:
        for pid in b["ids"]:
            MESSAGES[pid]["done"] = b.get("done")
    msgs = [m for m in MESSAGES.values() if m.get("done") and "offered" in m and "batch" in m]
    for m in msgs:
        m["latency"] = m["done"] - m["offered"]
        b = BATCHES[m["batch"]]
        m["queued"] = b["handed"] - m["offered"]  # waiting for a free batch slot
        m["own"] = b["done"] - b["handed"]
    msgs.sort(key=lambda m: m["latency"])
    n = len(msgs)
    p = lambda q: msgs[min(n - 1, round(q * n) - 1)]["latency"] * 1000  # noqa: E731
    print(
        f"probe: {n} messages, {len(BATCHES)} batches; p50 {p(0.5):.0f} p95 {p(0.95):.0f} p99 {p(0.99):.0f} ms"
    )
    tail = msgs[round(0.99 * n) - 1 :]
    tail_batches = sorted({m["batch"] for m in tail} | {m["batch"] - 1 for m in tail})
    mean = lambda xs: sum(xs) / max(len(xs), 1)  # noqa: E731
    print(
        f"  slowest 1 %: queued {mean([m['queued'] for m in tail]) * 1000:.0f} ms, "
        f"own batch {mean([m['own'] for m in tail]) * 1000:.0f} ms (means)"
    )
    sizes = [b["size"] for b in BATCHES]
    print(f"  batch sizes: mean {mean(sizes):.1f}, max {max(sizes)}")
    for i in tail_batches:
        b = BATCHES[i]
        st = {k: round(v * 1000) for k, v in b["stages"].items()}
        gcs = [(g, round(d * 1000)) for t, g, d, _ in GCS if b["handed"] <= t <= b["done"]]
        slow = sorted(b["routes"], key=lambda r: -r[1])[:3]
        outcomes: dict[str, int] = {}
        for o in b.get("outcomes", []):
            outcomes[o] = outcomes.get(o, 0) + 1
        print(
            f"  batch {i}: size {b['size']} rooms {b['rooms']}, {1000 * (b['done'] - b['handed']):.0f} ms "
            f"(thread start +{1000 * (b.get('thread', b['handed']) - b['handed']):.0f} ms) stages {st} "
            f"gc {gcs} slowest routes {[(s, round(d * 1000)) for s, d in slow]} outcomes {outcomes}"
        )
    print(f"  heap at the end: {len(gc.get_objects())} tracked objects, {gc.get_freeze_count()} frozen")
    print(f"  full collections (tracked objects after, collected, CPU s): {GEN2}")
    pauses = sorted(d for _, _, d, _ in GCS)
    by_gen = {g: [d for _, gg, d, _ in GCS if gg == g] for g in (0, 1, 2)}
    print(
        "  gc: "
        + ", ".join(
            f"gen{g} {len(v)}× total {sum(v) * 1000:.0f} ms (CPU {GC_CPU[g] * 1000:.0f}) max {max(v, default=0) * 1000:.0f} ms"
            for g, v in by_gen.items()
        )
        + (f"; longest {pauses[-1] * 1000:.0f} ms" if pauses else "")
    )
    routes = [r for b in BATCHES for r in b["routes"]]
    kinds: dict[str, list[float]] = {}
    for status, d in routes:
        kinds.setdefault(status, []).append(d)
    print(
        "  route per message by outcome (mean/max ms): "
        + ", ".join(
            f"{k} {len(v)}× {mean(v) * 1000:.1f}/{max(v) * 1000:.0f}" for k, v in sorted(kinds.items())
        )
    )
    stage_names = sorted({k for b in BATCHES for k in b["stages"]})
    print(
        "  per-batch stage means (ms): "
        + ", ".join(f"{s} {mean([b['stages'].get(s, 0) for b in BATCHES]) * 1000:.1f}" for s in stage_names)
        + f", thread start {mean([b.get('thread', b['handed']) - b['handed'] for b in BATCHES]) * 1000:.1f}"
        + f", whole {mean([b['done'] - b['handed'] for b in BATCHES]) * 1000:.1f}"
    )
    with open(out, "w") as fh:
        json.dump({"batches": BATCHES, "gcs": GCS, "messages": msgs}, fh)


def main() -> None:
    out = sys.argv.pop(1)
    gc.callbacks.append(_gc)
    _wrap_handle_batch()
    _wrap_incoming()
    try:
        bp.main()
    finally:
        report(out)


if __name__ == "__main__":
    main()

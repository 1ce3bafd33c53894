"""Compare two memory dumps written by benchmarks/memtrace/sitecustomize.py.

    python benchmarks/memtrace_report.py DIR [--pid PID] [--from N] [--to M] [--top 25]

Prints each dump's RSS, traced Python memory, pymalloc blocks and arenas, C heap and thread count;
then, between the two chosen dumps, the allocation sites (file:line) that grew most (when traced)
and the object types whose live count grew most.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path
from typing import Any


def load(directory: Path, pid: str | None) -> list[tuple[str, dict[str, Any]]]:
    """All dumps of one process (the first pid found unless given), oldest first."""
    files = sorted(directory.glob("*.pickle"))
    pids = sorted({f.name.split("-")[0] for f in files})
    chosen = pid or (pids[0] if pids else None)
    return [(f.name, pickle.loads(f.read_bytes())) for f in files if f.name.split("-")[0] == chosen]


def main() -> None:
    """Print the growth between two dumps."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("directory", type=Path)
    ap.add_argument("--pid")
    ap.add_argument("--from", dest="first", type=int, default=1, help="index of the earlier dump")
    ap.add_argument("--to", dest="last", type=int, default=-1, help="index of the later dump")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    dumps = load(args.directory, args.pid)
    if len(dumps) < 2:
        raise SystemExit(f"need two dumps of one process in {args.directory}, found {len(dumps)}")
    print(
        "dump             t(s)   RSS MB  traced MB   blocks  C in use MB  C free MB  mmap MB  threads  arenas"
    )
    for name, d in dumps:
        m = d.get("mallinfo") or {}
        c = (
            f"{m['uordblks'] / 2**20:12.1f} {m['fordblks'] / 2**20:10.1f} {m['hblkhd'] / 2**20:8.1f}"
            if m
            else f"{'-':>12} {'-':>10} {'-':>8}"
        )
        print(
            f"{name:<15} {d['t']:6.0f} {d['rss_kb'] / 1024:8.1f} {d['traced'] / 2**20:10.2f} {d['blocks']:8d}"
            f" {c} {d.get('threads', '-'):>8} {d.get('arenas', '-'):>7}"
        )
    (na, a), (nb, b) = dumps[args.first], dumps[args.last]
    minutes = (b["t"] - a["t"]) / 60
    print(f"\n{na} -> {nb} ({minutes:.1f} min)")
    print(
        f"RSS {(b['rss_kb'] - a['rss_kb']) / 1024:+.2f} MB, traced {(b['traced'] - a['traced']) / 2**20:+.2f} MB,"
        f" blocks {b['blocks'] - a['blocks']:+d}"
    )
    if a["snapshot"] is not None and b["snapshot"] is not None:
        print("\nallocation sites that grew most:")
        for stat in b["snapshot"].compare_to(a["snapshot"], "lineno")[: args.top]:
            print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  {stat.traceback}")
    print("\nobject types whose count grew most:")
    growth = {k: b["census"].get(k, 0) - a["census"].get(k, 0) for k in set(a["census"]) | set(b["census"])}
    for name, diff in sorted(growth.items(), key=lambda kv: -kv[1])[: args.top]:
        if diff > 0:
            print(f"  {diff:+8d}  {name}")


if __name__ == "__main__":
    main()

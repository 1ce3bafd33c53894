"""Attachment storage cost: what keeping one photo adds to a message (sniff, hash, copy, fsync).

    python benchmarks/bench_attachments.py --count 50 --size-kb 3000

Writes `count` distinct JPEG-headed files of `size-kb` into a temporary attachments directory's
incoming/ folder (as a transport downloads them), then times FileStore.take on each (the work done
inside the message's persist transaction) and prints p50/p95 per photo and the throughput.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from gridbot.models.attachments.store import FileStore
from gridbot.models.settings import AttachmentSettings


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--size-kb", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = FileStore(AttachmentSettings(dir=Path(tmp) / "att", max_bytes=64 * 1024 * 1024))
        store.incoming.mkdir(parents=True)
        paths = []
        for i in range(args.count):
            path = store.incoming / f"d{i}"
            path.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(args.size_kb * 1024 - 4))
            paths.append(path)
        times = []
        for path in paths:
            start = time.perf_counter()
            taken = store.take(str(path))
            times.append(time.perf_counter() - start)
            assert taken.sha256 is not None
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        mb = args.count * args.size_kb / 1024
        print(
            f"{args.count} photos of {args.size_kb} KiB: p50 {statistics.median(times) * 1000:.1f} ms, "
            f"p95 {p95 * 1000:.1f} ms per photo, {mb / sum(times):.0f} MiB/s"
        )


if __name__ == "__main__":
    main()

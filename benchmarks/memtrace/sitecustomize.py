"""Memory probe for a benchmarked process, loaded through PYTHONPATH as `sitecustomize`.

When `GRIDBOT_MEMTRACE_DIR` is set, the process starts `tracemalloc` (`GRIDBOT_MEMTRACE_FRAMES`
frames, default 1; 0 leaves it off, for a light probe at full speed) and a daemon thread writes
`<dir>/<pid>-<n>.pickle` every `GRIDBOT_MEMTRACE_EVERY_S` seconds (default 60): RSS,
`sys.getallocatedblocks()`, glibc's `mallinfo2()` (C heap in use and free), the thread count, a
census of live objects by type (after a full collection) and, when tracing, the tracemalloc
snapshot and traced total. `benchmarks/memtrace_report.py` compares two dumps. Without the
variable this module does nothing. Diagnostics only: never installed with the package.
"""

from __future__ import annotations

import os

_DIR = os.environ.get("GRIDBOT_MEMTRACE_DIR")
# struct mallinfo2 (glibc >= 2.33), in order
MALLINFO2_FIELDS = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"


def _start() -> None:
    import collections
    import gc
    import pickle
    import sys
    import threading
    import time
    import tracemalloc
    from pathlib import Path

    out = Path(str(_DIR))
    out.mkdir(parents=True, exist_ok=True)
    every = float(os.environ.get("GRIDBOT_MEMTRACE_EVERY_S", "60"))
    frames = int(os.environ.get("GRIDBOT_MEMTRACE_FRAMES", "1"))
    if frames:
        tracemalloc.start(frames)
    began = time.monotonic()

    def rss_kb() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return -1

    def mallinfo() -> dict[str, int]:
        """glibc's view of the C heap: in use, free inside its arenas, mmapped (empty elsewhere)."""
        import ctypes

        class MallInfo2(ctypes.Structure):
            _fields_ = [(name, ctypes.c_size_t) for name in MALLINFO2_FIELDS.split(" ")]

        try:
            fn = ctypes.CDLL(None).mallinfo2
        except (OSError, AttributeError):
            return {}
        fn.restype = MallInfo2
        info = fn()
        return {name: int(getattr(info, name)) for name, _ in MallInfo2._fields_}

    def pymalloc_arenas() -> int:
        """pymalloc's arenas in use, from sys._debugmallocstats() (it writes to fd 2 only)."""
        import re
        import tempfile

        with tempfile.TemporaryFile() as capture:
            saved = os.dup(2)
            try:
                os.dup2(capture.fileno(), 2)
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            capture.seek(0)
            found = re.search(rb"# arenas allocated current\s*=\s*([\d,]+)", capture.read())
        return int(found[1].replace(b",", b"")) if found else -1

    def dump(n: int) -> None:
        gc.collect()
        census = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
        snap = (
            tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen *>")]
            )
            if frames
            else None
        )
        record = {
            "t": time.monotonic() - began,
            "rss_kb": rss_kb(),
            "traced": tracemalloc.get_traced_memory()[0],
            "blocks": sys.getallocatedblocks(),
            "census": dict(census),
            "mallinfo": mallinfo(),
            "threads": threading.active_count(),
            "arenas": pymalloc_arenas(),
            "snapshot": snap,
        }
        tmp = out / f".{os.getpid()}-{n}.tmp"
        tmp.write_bytes(pickle.dumps(record))
        tmp.rename(out / f"{os.getpid()}-{n:03d}.pickle")

    def loop() -> None:
        n = 0
        while True:
            time.sleep(every)
            try:
                dump(n)
            except Exception as exc:  # a probe must never take the process down
                print(f"memtrace: dump failed: {exc!r}", file=sys.stderr)
            n += 1

    threading.Thread(target=loop, name="memtrace", daemon=True).start()


if _DIR:
    _start()

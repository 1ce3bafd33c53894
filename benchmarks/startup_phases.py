"""Where `gridbot run`'s start-up goes: wall and CPU seconds at each step up to its first handled message.

    python benchmarks/startup_phases.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The database is prepared as bench_startup.py does (not timed); then `--rounds` starts, each with one
resident report waiting, run through this file as the child (`--child`): it wraps a few functions as
their modules are imported (nothing is imported early) and prints, when the message is handled, the
time since the interpreter started its main module and the process's CPU at each step. The median
of the rounds' rows is printed. CPU is the figure to read on a shared machine.
"""

from __future__ import annotations

import argparse
import functools
import importlib.abc
import importlib.machinery
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

CLOCK = time.perf_counter()
MARKS: list[tuple[str, float, float]] = []
# module -> functions timed from call to return
WRAP = {
    "gridbot.runtime": ["open_engine"],
    "gridbot.models.db": ["make_engine", "check_connection"],
    "gridbot.bot.app": ["build_runtime"],
    "gridbot.nlp.fast": ["load"],
    "gridbot.handlers.conversation": [],
    "gridbot.nlp.classifier": [],
    "sqlalchemy": [],
    "numpy": [],
    "gridbot.models.entities": [],
    "gridbot.bot.journal": ["_append_line"],
}


def mark(name: str) -> None:
    MARKS.append((name, time.perf_counter() - CLOCK, time.process_time()))


def report() -> None:
    """The marks as JSON on stderr's last line (the parent reads it)."""
    sys.stderr.write("PHASES " + json.dumps(MARKS) + "\n")
    sys.stderr.flush()


def wrap(module: ModuleType, name: str) -> None:
    fn = getattr(module, name)

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        mark(f"{module.__name__}.{name} >")
        try:
            return fn(*args, **kwargs)
        finally:
            mark(f"{module.__name__}.{name} <")
            if name == "_append_line":
                report()

    setattr(module, name, timed)


class Hook(importlib.abc.MetaPathFinder):
    """Marks the start and end of importing the modules in WRAP and wraps their functions."""

    def find_spec(
        self, fullname: str, path: Any, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in WRAP:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                run = spec.loader.exec_module

                def exec_module(module: ModuleType, run: Any = run) -> None:
                    mark(f"import {fullname} >")
                    run(module)
                    mark(f"import {fullname} <")
                    for name in WRAP[fullname]:
                        wrap(module, name)

                spec.loader.exec_module = exec_module  # type: ignore[method-assign]
                return spec
        return None


def child() -> None:
    """Run `gridbot run …` (the rest of argv) with the hooks in place."""
    sys.meta_path.insert(0, Hook())
    mark("main module running")
    sys.argv = ["gridbot", *sys.argv[2:]]
    from gridbot.cli import main

    main()


def one_start(env: dict[str, str], journal: Path, n: int) -> list[tuple[str, float, float]]:
    from bench_startup import queue_report

    handled, before = queue_report(journal, f"phases-{os.getpid()}-{n}")
    log = journal / f"stderr-{n}.txt"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                "run",
                "--transport",
                "journal",
                "--journal-dir",
                str(journal),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            while not (handled.exists() and handled.read_text(encoding="utf-8").count("\n") > before):
                if proc.poll() is not None:
                    raise RuntimeError(f"the bot exited with {proc.returncode}: see {log}")
                time.sleep(0.005)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
    rows = [r for r in log.read_text(encoding="utf-8").splitlines() if r.startswith("PHASES ")]
    return [tuple(m) for m in json.loads(rows[-1][len("PHASES ") :])]


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"), required=False)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not args.pg_url:
        ap.error("--pg-url (or GRIDBOT_TEST_DATABASE_URL) is needed")
    from bench_db import pg_schema_engine
    from bench_startup import compile_package, prepare

    compile_package()
    with pg_schema_engine(args.pg_url) as engine, tempfile.TemporaryDirectory() as tmp:
        prepare(engine)
        url = f"{args.pg_url}?options=-csearch_path%3Dgridbot_bench_{os.getpid()}"
        env = dict(os.environ, GRIDBOT_DB__URL=url, GRIDBOT_SPOOL_DIR=str(Path(tmp) / "spool"))
        env.pop("GRIDBOT_REDIS__URL", None)
        journal = Path(tmp) / "journal"
        journal.mkdir()
        one_start(env, journal, 0)  # a first start builds what later starts read (caches)
        runs = [one_start(env, journal, n) for n in range(1, args.rounds + 1)]
    print(
        f"{'step':52s} {'wall s':>7s} {'CPU s':>7s} {'Δ wall':>7s} {'Δ CPU':>7s}  (median of {args.rounds})"
    )
    previous = (0.0, 0.0)
    for i, (name, _, _) in enumerate(runs[0]):
        if any(len(r) <= i or r[i][0] != name for r in runs):
            break  # the rounds took different paths from here
        wall = statistics.median(r[i][1] for r in runs)
        cpu = statistics.median(r[i][2] for r in runs)
        print(f"{name:52s} {wall:7.3f} {cpu:7.3f} {wall - previous[0]:7.3f} {cpu - previous[1]:7.3f}")
        previous = (wall, cpu)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child()
    else:
        main()

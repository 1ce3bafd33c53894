"""Named crash points for the fault-injection tests: `hit(name)` kills the process when told to.

`GRIDBOT_FAILPOINTS="outbox.sent=3,route.dispatched=1"` makes the process SIGKILL itself the 3rd time
it passes `outbox.sent` (and the 1st time it passes `route.dispatched`). Unset, `hit` is a dict lookup.
The points sit in the windows a crash could hurt: between a side effect and the record of it.
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "GRIDBOT_FAILPOINTS"

POINTS = {
    "inbound.persisted": "the message is stored, not yet routed",
    "route.dispatched": "the message is routed, its transaction not yet committed",
    "outbox.claimed": "outbox rows are claimed (SENDING), not yet handed to the transport",
    "outbox.sent": "the transport accepted the message, the rows are not yet marked SENT",
    "sweep.enqueued": "a reminder batch is queued, the sweep not yet finished",
}

_lock = threading.Lock()
_plan: dict[str, int] | None = None
_counts: dict[str, int] = {}


def _load() -> dict[str, int]:
    plan: dict[str, int] = {}
    for item in filter(None, (p.strip() for p in os.environ.get(ENV, "").split(","))):
        name, _, nth = item.partition("=")
        if name not in POINTS:
            raise ValueError(f"{ENV}: unknown failpoint {name!r} (known: {', '.join(POINTS)})")
        plan[name] = int(nth or "1")
    return plan


def hit(name: str) -> None:
    """Pass the named point; SIGKILL this process if the plan says this is the hit to die on."""
    global _plan
    if _plan is None:
        _plan = _load()
    if not _plan or name not in _plan:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        if _counts[name] == _plan[name]:
            os.kill(os.getpid(), signal.SIGKILL)

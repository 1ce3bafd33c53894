"""A real local HTTP receiver for webhook tests and the benchmark: verifies signatures, counts by key.

`plan(key, receipt_number)` decides each answer: "ok" (apply, 200), "fail" (500, nothing applied),
"hang" (apply, then never answer in time: the sender times out and retries). A receiver that
remembers idempotency keys applies each event once however often it is delivered.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gridbot.models.exchange.webhooks import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

Plan = Callable[[str, int], str]


@dataclass
class Received:
    """What the receiver saw: receipts per key, events applied (once per key), bad signatures."""

    receipts: Counter[str] = field(default_factory=Counter)
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 10.0) -> bool:
        """Block until `predicate(self)` holds (notified on every receipt), or the timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout)


@contextmanager
def receiver(secret: bytes, plan: Plan = lambda key, n: "ok") -> Iterator[tuple[str, Received]]:
    """A running receiver on 127.0.0.1 and a free port: yields (url, Received)."""
    got = Received()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            key = self.headers.get(KEY_HEADER, "")
            ts = int(self.headers.get(TIMESTAMP_HEADER, "0"))
            ok = verify(secret, ts, body, self.headers.get(SIGNATURE_HEADER, ""), time.time())
            with got.lock:
                got.receipts[key] += 1
                n = got.receipts[key]
                if not ok:
                    got.bad_signatures += 1
            action = plan(key, n) if ok else "reject"
            if action in ("ok", "hang"):
                with got.lock:
                    got.applied.setdefault(key, json.loads(body))  # idempotent: once per key
            with got.changed:
                got.changed.notify_all()
            if action == "hang":
                got.release.wait(30)  # the sender's timeout fires first
                return
            code = {"ok": 200, "fail": 500, "reject": 401}[action]
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default 5 refuses connections under a concurrent sender

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    finally:
        got.release.set()
        server.shutdown()
        server.server_close()

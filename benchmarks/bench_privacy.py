"""Privacy/abuse figures: /messages?limit=200 latency over long texts, API memory under a huge unauthenticated body.

    python benchmarks/bench_privacy.py                       # both, on a throw-away SQLite database
    python benchmarks/bench_privacy.py --only messages --n 30
    python benchmarks/bench_privacy.py --only body --body-mb 250

`messages`: 200 resident messages of ~4,000 characters each (a few phone numbers and addresses inside)
are stored as intake stores them; a city admin's token then calls GET /messages?limit=200 through
httpx.ASGITransport; prints p50/p95.
`body`: `gridbot api` (uvicorn) is started as a subprocess on the same database; an unauthenticated
POST /tickets/1/resolve with a Content-Length of --body-mb MB is streamed at it in 1 MB chunks; prints
the status, how much the server took before answering, the seconds, and the server's RSS before and
its peak RSS (VmHWM) after. Run it with PYTHONPATH pointing at another checkout for "before" figures.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.models.db import make_session_factory
from gridbot.models.entities import Message
from gridbot.models.enums import MessageDirection, Role
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.migrate import upgrade
from gridbot.models.org.directory import create_grid, create_region, ensure_person
from gridbot.models.org.tokens import create_token
from gridbot.models.settings import APISettings, DBSettings, Settings
from gridbot.nlp.normalize import normalize
from gridbot.nlp.pii import mask

FILLER = "小区楼道灯坏了好几天晚上黑漆漆的老人上下楼很不方便麻烦物业尽快来修一下谢谢大家"


def long_text(rng: random.Random, size: int) -> str:
    """A long resident text with personal data sprinkled in."""
    parts: list[str] = []
    while sum(map(len, parts)) < size:
        parts.append(rng.choice(FILLER) * rng.randint(1, 3))
        if rng.random() < 0.02:
            parts.append(
                f"电话1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}，住{rng.randint(1, 30)}栋501室"
            )
    return "".join(parts)[:size]


def seed(url: str, n: int, size: int) -> tuple[str, int]:
    """A city, a grid, n long messages; returns (a city admin token, the grid id)."""
    engine = create_engine(url)
    upgrade(engine)
    rng = random.Random(7)
    with make_session_factory(engine).begin() as session:
        city = create_region(session, "BENCH", "测试市")
        district = create_region(session, "BENCH-D", "测试区", city)
        street = create_region(session, "BENCH-D-S", "测试街道", district)
        community = create_region(session, "BENCH-D-S-C", "测试社区", street)
        grid = create_grid(session, "BENCH-G1", "测试网格", community, households=300)
        person = ensure_person(session, "wx-bench", "张阿姨")
        t0 = datetime(2026, 3, 1, tzinfo=UTC)
        for i in range(n):
            text = long_text(rng, size)
            session.add(
                Message(
                    platform_id=f"bench-{i}",
                    direction=MessageDirection.INBOUND,
                    grid_id=grid.id,
                    sender_id=person.id,
                    sender_role=Role.RESIDENT,
                    text=text,
                    text_masked=mask(normalize(text, max_len=size)),
                    sent_at=t0 + timedelta(minutes=i),
                )
            )
        _, token = create_token(session, role=Role.CITY_ADMIN, region=city, name="市网格办")
        grid_id = grid.id
    engine.dispose()
    return token, grid_id


async def bench_messages(url: str, token: str, n: int) -> None:
    """p50/p95 of GET /messages?limit=200."""
    settings = Settings(_env_file=None, db=DBSettings(url=url), api=APISettings(rate_limit_per_minute=10**6))
    app = create_app(settings, coordinator=LocalCoordinator(), limiter=LocalRateLimiter())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers={"Authorization": f"Bearer {token}"},
        ) as client,
    ):
        r = await client.get("/messages", params={"limit": 200})
        assert r.status_code == 200, r.text[:200]
        size = len(r.content)
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            r = await client.get("/messages", params={"limit": 200})
            times.append(time.perf_counter() - t0)
        q = statistics.quantiles(times, n=100, method="inclusive")
        print(f"GET /messages?limit=200 over {len(r.json()['items'])} long texts ({size / 1e6:.1f} MB JSON): "
              f"p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms (n={n})")  # fmt: skip


def rss_kb(pid: int, field: str) -> int:
    """VmRSS or VmHWM of a process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_body(url: str, body_mb: int) -> None:
    """Stream an unauthenticated body of body_mb MB at a real uvicorn server; status, bytes taken, RSS."""
    port = free_port()
    env = {**os.environ, "GRIDBOT_DB__URL": url, "GRIDBOT_LOG_LEVEL": "WARNING"}
    code = f"from gridbot.cli import main; import sys; sys.argv=['gridbot','api','--port','{port}']; main()"
    server = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )  # noqa: S603
    try:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        time.sleep(0.5)
        before = rss_kb(server.pid, "VmRSS")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        total = body_mb * 1024 * 1024
        conn.putrequest("POST", "/tickets/1/resolve")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(total))
        conn.endheaders()
        chunk = b" " * (1024 * 1024)
        sent = 0
        t0 = time.perf_counter()
        try:
            while sent < total:
                conn.send(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server answered and closed before the body was through
        status = conn.getresponse().status
        took = time.perf_counter() - t0
        peak = rss_kb(server.pid, "VmHWM")
        print(f"unauthenticated POST of {body_mb} MB: HTTP {status} after {took:.1f} s, "
              f"{sent / 2**20:.0f} MB sent before the answer; API RSS {before / 1024:.0f} MB before, "
              f"peak {peak / 1024:.0f} MB")  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["messages", "body"])
    parser.add_argument("--n", type=int, default=20, help="calls of /messages to time")
    parser.add_argument("--size", type=int, default=4000, help="characters per message")
    parser.add_argument("--body-mb", type=int, default=250)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        token, _ = seed(url, 200, args.size)
        if args.only in (None, "messages"):
            asyncio.run(bench_messages(url, token, args.n))
        if args.only in (None, "body"):
            bench_body(url, args.body_mb)


if __name__ == "__main__":
    main()

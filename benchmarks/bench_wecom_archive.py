"""WeCom archive intake: how fast a backlog is caught up (WeCom keeps messages 5 days only).

    python benchmarks/bench_wecom_archive.py --messages 600 --batch 200

A temporary SQLite database with one grid whose external group the bot may not post in; the fake
archive (tests/e2e/wecom/fakes.py: real RSA-encrypted random keys, 2048-bit) holds the backlog,
mostly chatter with one report in ten. The puller runs batch after batch into the real
conversation (persist, classify, tickets, handoffs queued). Prints: RSA+decrypt time per item, and
messages per second end to end (and per pull). The Finance SDK's network fetch is not included.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from gridbot.bot.app import build_runtime
from gridbot.bot.wecom.archive import ArchivePuller
from gridbot.bot.wecom.finance import KeyRing
from gridbot.models.db import make_engine
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.migrate import upgrade
from gridbot.models.settings import DBSettings, Settings
from tests.e2e.wecom.conftest import ROOM, ZHANG, grid_world
from tests.e2e.wecom.fakes import FakeArchive, corp_keys

CHATTER = ["早上好", "今天降温了大家多穿点", "收到", "谢谢小王", "[玫瑰]", "晚安", "好的", "哈哈", "👍"]
REPORTS = ["3号楼电梯坏了，老人下不了楼", "东门垃圾桶满了两天没人清", "5号楼下水道堵了，污水漫到路上"]


async def main(n: int, batch: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench_wecom_"))
    settings = Settings(_env_file=None, db=DBSettings(url=f"sqlite:///{tmp / 'bench.db'}"))  # type: ignore[call-arg]
    engine = make_engine(settings.db)
    upgrade(engine)
    runtime = build_runtime(settings, engine, coordinator=LocalCoordinator())
    runtime.classifier()
    grid_world(runtime.sessions)
    public, private = corp_keys(tmp)
    archive, keys = FakeArchive(public), KeyRing.from_file(private)
    for i in range(n):
        text = REPORTS[i // 10 % len(REPORTS)] + f"（第{i}条）" if i % 10 == 0 else CHATTER[i % len(CHATTER)]
        archive.post(ROOM, ZHANG, text)

    started = time.perf_counter()
    decrypts = [
        _timed(
            lambda item=item: archive.decrypt(keys.random_key(item.encrypt_random_key), item.encrypt_chat_msg)
        )
        for item in archive.items[:200]
    ]
    rsa_ms = statistics.median(decrypts) * 1000

    async def agreed(_room: str, _who: str) -> bool:
        return True

    conversation = runtime.conversation()
    puller = ArchivePuller(runtime.sessions, archive, keys, agreed, conversation.handle, batch=batch)
    pulls: list[float] = []
    started = time.perf_counter()
    taken = 0
    while taken < n:
        t = time.perf_counter()
        result = await puller.pull_once()
        pulls.append(time.perf_counter() - t)
        taken += result.taken
        if result.fetched == 0:
            break
    total = time.perf_counter() - started
    print(f"archive items: {n}, batch {batch}, pulls {len(pulls)}")
    print(f"RSA (2048, PKCS#1 v1.5) + AES decrypt per item: median {rsa_ms:.2f} ms")
    print(f"end to end (decrypt, persist, classify, tickets): {n / total:.0f} messages/s ({total:.1f} s)")
    print(f"per pull of {batch}: median {statistics.median(pulls):.2f} s")
    engine.dispose()


def _timed(fn: object) -> float:
    t = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.batch))

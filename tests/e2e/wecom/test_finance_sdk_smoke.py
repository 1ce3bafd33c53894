"""Smoke test of the real Finance SDK library (libWeWorkFinanceSdk_C, from the pyweworkfinance
wheel) on this machine: it loads, and an unreachable WeCom is a clear error within the timeout,
not a hang. Each case runs in a subprocess, so a library that aborts or hangs fails the test
instead of killing or stalling pytest."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

if importlib.util.find_spec("pyweworkfinance") is None and os.environ.get("GRIDBOT_E2E_REQUIRED") == "1":
    raise RuntimeError(
        "GRIDBOT_E2E_REQUIRED=1 but the wecom extra is not installed (pip install 'gridbot[wecom]')"
    )
pytest.importorskip(
    "pyweworkfinance", reason="the wecom extra is not installed (pip install 'gridbot[wecom]')"
)

pytestmark = [pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json, sys, time
from gridbot.bot.wecom.finance import ArchiveError, FinanceSdk, default_library
proxy, timeout_s, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sdk = FinanceSdk("ww0000000000000000", "not-a-real-secret", timeout_s=timeout_s, proxy=proxy)
started = time.monotonic()
try:
    if what == "fetch":
        sdk.fetch(0, 100)
    else:
        sdk.decrypt("k" * 32, what)
    out = {"ok": True}
except ArchiveError as exc:
    out = {"code": exc.code, "message": str(exc)}
out["seconds"] = time.monotonic() - started
out["library"] = str(default_library())
print(json.dumps(out, ensure_ascii=False))
"""


def probe(proxy: str, timeout_s: int, what: str = "fetch") -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, proxy, str(timeout_s), what],
        capture_output=True,
        text=True,
        timeout=timeout_s + 30,  # a hang fails here (TimeoutExpired), it does not stall the suite
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_unreachable_wecom_is_a_network_error_at_once() -> None:
    with socket.socket() as s:  # a port nothing listens on: connection refused
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    result = probe(f"http://127.0.0.1:{closed}", timeout_s=3)
    assert result["code"] == 10001 and "网络错误" in str(result["message"])
    assert Path(str(result["library"])).name.startswith("libWeWorkFinanceSdk_C")
    assert float(str(result["seconds"])) < 3


def test_a_silent_endpoint_ends_in_the_sdk_timeout_not_a_hang() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()
        result = probe(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=2)
        elapsed = time.monotonic() - started
    assert result["code"] == 10001
    assert 1.5 <= float(str(result["seconds"])) < 10
    assert elapsed < 30


def test_malformed_ciphertext_is_an_error_not_an_abort() -> None:
    short = probe("", timeout_s=2, what="abc")  # the raw library aborts the process on this
    assert short["code"] == 10002
    garbage = probe("", timeout_s=2, what="bm90IGEgcmVhbCBhcmNoaXZlIG1lc3NhZ2U=")
    assert garbage["code"] in (10006, 10008)

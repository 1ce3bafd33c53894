"""No secret in a log line at any level: configured secrets, URL and bearer tokens, HTTP/2 wire logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from gridbot.logsafety import REDACTED, protect_handlers
from gridbot.models.settings import APISettings, DBSettings, Settings, WechatySettings

PUPPET = "puppet-token-0123456789abcdef"
JWT = "jwt-secret-0123456789abcdef"
METRICS = "metrics-token-0123456789"
DB_PASSWORD = "db-pass-0123456789"
API_TOKEN = "gb_" + "A" * 43


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """The root logger at DEBUG into a string, with the entry points' protection installed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in ("hpack", "h2")}
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG)
    # a uvicorn started by an earlier test leaves its access logger at WARNING and unpropagated
    access = logging.getLogger("uvicorn.access")
    access_saved = access.level, access.propagate, access.handlers[:], access.disabled
    access.setLevel(logging.INFO)
    access.propagate, access.handlers[:], access.disabled = True, [], False  # dictConfig may disable it
    # ... and its default config gives the `uvicorn` parent a stderr handler and stops propagation there
    parent = logging.getLogger("uvicorn")
    parent_saved = parent.propagate, parent.handlers[:]
    parent.propagate, parent.handlers[:] = True, []
    settings = Settings(
        _env_file=None,
        db=DBSettings(url=f"postgresql+psycopg://gridbot:{DB_PASSWORD}@db:5432/gridbot"),
        wechaty=WechatySettings(token=SecretStr(PUPPET)),
        api=APISettings(jwt_secret=SecretStr(JWT), metrics_token=SecretStr(METRICS)),
    )
    protect_handlers(settings)
    yield stream
    root.handlers[:], level, wire = saved
    root.setLevel(level)
    for name, lvl in wire.items():
        logging.getLogger(name).setLevel(lvl)
    access.setLevel(access_saved[0])
    access.propagate, access.handlers[:], access.disabled = access_saved[1], access_saved[2], access_saved[3]
    parent.propagate, parent.handlers[:] = parent_saved


def test_no_configured_secret_or_token_reaches_the_output(output: io.StringIO) -> None:
    log = logging.getLogger("gridbot.test")
    log.debug("settings: %s %s %s %s", PUPPET, JWT, METRICS, DB_PASSWORD)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/1.1" %d',
        "10.0.0.5:5123",
        "GET",
        f"/dashboard?token={API_TOKEN}&from=2026-03-01",
        200,
    )
    log.debug("headers: %s", {"authorization": f"Bearer {API_TOKEN}"})
    try:
        raise RuntimeError(f"connect failed with {PUPPET}")
    except RuntimeError:
        log.exception("puppet")
    text = output.getvalue()
    for secret in (PUPPET, JWT, METRICS, DB_PASSWORD, API_TOKEN):
        assert secret not in text
    assert "/dashboard?token=" + REDACTED + "&from=2026-03-01" in text and "Bearer " + REDACTED in text


def test_hpack_debug_logs_are_silenced(output: io.StringIO) -> None:
    # what grpclib's HTTP/2 layer does when the Wechaty gateway connects: hpack logs headers at DEBUG
    hpack = pytest.importorskip("hpack", reason="hpack comes with the wechaty extra (scripts/e2e-setup)")
    hpack.Encoder().encode([(":path", "/wechaty.Puppet/Start"), ("authorization", f"Wechaty {PUPPET}")])
    assert logging.getLogger("hpack").getEffectiveLevel() >= logging.WARNING
    assert PUPPET not in output.getvalue()


def test_a_library_handler_off_the_root_is_protected_too() -> None:
    # uvicorn's default log config: a handler on `uvicorn`, propagation stopped, so root never sees it
    stream = io.StringIO()
    lib = logging.getLogger("uvicorn")
    saved = lib.handlers[:], lib.propagate
    lib.handlers[:], lib.propagate = [logging.StreamHandler(stream)], False
    try:
        settings = Settings(_env_file=None, wechaty=WechatySettings(token=SecretStr(PUPPET)))
        protect_handlers(settings)
        logging.getLogger("uvicorn.error").error("puppet %s; GET /work?token=%s", PUPPET, API_TOKEN)
    finally:
        lib.handlers[:], lib.propagate = saved
    text = stream.getvalue()
    assert "puppet " + REDACTED in text and "token=" + REDACTED in text
    assert PUPPET not in text and API_TOKEN not in text

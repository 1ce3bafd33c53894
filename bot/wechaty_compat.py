"""Importing python-wechaty safely: the Python 3.11 and urllib3 2 fixes, quiet loggers, no token in logs.

python-wechaty (unmaintained since 2023) is imported only here, lazily, so `import bot` works
without the `wechaty` extra installed.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from gridbot.bot.transport import TransportError

# The loggers python-wechaty creates with its own handlers (propagate=False). At INFO they print
# message texts ("receive message <...>", "Room say <...>"); PuppetService warns with the token.
WECHATY_LOGGERS = (
    "Wechaty",
    "PuppetService",
    "Message",
    "Room",
    "Contact",
    "ContactSelf",
    "FileBox",
    "Accessory",
    "Config",
    "wechaty.plugin",
    "WechatyPuppetServiceConfig",
)

_REDACTED = "<redacted>"


class RedactSecrets(logging.Filter):
    """Replaces known secrets in a log record's final text."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record when it contains a secret; never drop it."""
        if not self.secrets:
            return True
        text = record.getMessage()
        if any(s in text for s in self.secrets):
            for secret in self.secrets:
                text = text.replace(secret, _REDACTED)
            record.msg, record.args = text, None
        return True


_redactor = RedactSecrets()


def get_host(url: str) -> tuple[str, str | None, int | None]:
    """urllib3 1.26's `get_host` (removed in urllib3 2.0): scheme (default http), host, port."""
    parsed = importlib.import_module("urllib3.util").parse_url(url)
    return parsed.scheme or "http", parsed.hostname, parsed.port


def _restore_urllib3_get_host() -> None:
    """Give urllib3 2 back the one function python-wechaty imports from it.

    `wechaty/user/url_link.py` does `from urllib3 import get_host` at import time and nothing else of
    urllib3's; that single import was the only reason the extra pinned urllib3 1.26, whose last
    release carries unfixed advisories (SECURITY.md, "Dependency audit").
    """
    vars(importlib.import_module("urllib3")).setdefault("get_host", get_host)


def load_wechaty(cache_dir: Path, token: str) -> ModuleType:
    """Import and return the `wechaty` module, patched for Python 3.11 and with `token` redacted."""
    if token:
        _redactor.secrets.add(token)
    # Read once, at the first import: the cache directory (python-wechaty would otherwise write
    # ./.wechaty/) and the log level (INFO would log residents' messages).
    cache_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CACHE_DIR", str(cache_dir))
    os.environ.setdefault("WECHATY_LOG", "warn")
    try:
        puppet_schema = importlib.import_module("wechaty_puppet.schemas.puppet")
        # Python 3.11 rejects the unhashable dataclass default `WechatyOptions.puppet_options`.
        puppet_schema.PuppetOptions.__hash__ = object.__hash__
        _restore_urllib3_get_host()
        module = importlib.import_module("wechaty")
    except ImportError as exc:
        raise TransportError(
            "python-wechaty is not installed: install the extra with pip install 'gridbot[wechaty]'"
        ) from exc
    for name in WECHATY_LOGGERS:
        wlog = logging.getLogger(name)
        if _redactor not in wlog.filters:
            wlog.addFilter(_redactor)
    return module


def new_puppet_options() -> Any:
    """A fresh, empty PuppetOptions (endpoint and token then come from the environment)."""
    return importlib.import_module("wechaty_puppet.schemas.puppet").PuppetOptions()


def describe(exc: BaseException, endpoint: str) -> str:
    """A clear one-line reason for a failed or dropped connection (never the token)."""
    status = getattr(exc, "status", None)
    if status is not None and getattr(status, "name", "") == "UNAUTHENTICATED":
        return f"the puppet service at {endpoint} rejected the token (UNAUTHENTICATED)"
    if status is not None:
        return f"the puppet service at {endpoint} answered gRPC {status.name}"
    if isinstance(exc, OSError) or type(exc).__name__ == "StreamTerminatedError":
        return f"cannot reach the puppet service at {endpoint} ({type(exc).__name__})"
    return f"puppet service at {endpoint} failed: {type(exc).__name__}"

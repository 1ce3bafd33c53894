"""The local spool: inbound messages that arrive while the database is down wait here, in order.

One JSONL file per bot instance. `append` fsyncs before returning, so a message the transport handed
over survives a crash of this process too. `drain` hands the spooled messages, oldest first, to a
handler; the handled prefix is cut from the file only after the handler returned, so a crash in
between replays some messages twice — which the database's UNIQUE platform id turns into no-ops.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from gridbot.handlers.types import IncomingMessage
from gridbot.models.enums import MessageType

logger = logging.getLogger(__name__)


def _encode(msg: IncomingMessage) -> str:
    row = asdict(msg)
    row["sent_at"] = msg.sent_at.isoformat()
    row["msg_type"] = msg.msg_type.value
    return json.dumps(row, ensure_ascii=False)


def _decode(line: str) -> IncomingMessage:
    row: dict[str, Any] = json.loads(line)
    known = {f.name for f in fields(IncomingMessage)}
    row = {k: v for k, v in row.items() if k in known}
    row["sent_at"] = datetime.fromisoformat(row["sent_at"])
    row["msg_type"] = MessageType(row["msg_type"])
    row["mentions"] = tuple(row.get("mentions") or ())
    row["mention_names"] = tuple((str(i), str(n)) for i, n in row.get("mention_names") or ())
    row["sender_handles"] = tuple(row.get("sender_handles") or ())
    return IncomingMessage(**row)


class Spool:
    """An append-only file of messages waiting for the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rejected = path.with_suffix(".rejected")
        self._mutex = threading.Lock()

    def __len__(self) -> int:
        with self._mutex:
            return len(self._lines())

    def _lines(self) -> list[str]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        lines = raw.split("\n")
        # a torn last line (killed mid-write) has no newline yet: it was never acknowledged
        return [line for line in lines[:-1] if line.strip()]

    def append(self, msg: IncomingMessage) -> None:
        """Store one message durably."""
        with self._mutex:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._heal()
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(_encode(msg) + "\n")
                fh.flush()
                os.fsync(fh.fileno())

    def _heal(self) -> None:
        """Cut a torn last line so the next append starts on a line of its own."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        if raw and not raw.endswith(b"\n"):
            self._rewrite(self._lines())

    def _rewrite(self, lines: list[str]) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def drain(self, handle: Callable[[IncomingMessage], bool]) -> int:
        """Feed spooled messages to `handle` in order until it returns False; returns how many it took."""
        with self._mutex:
            lines = self._lines()
        done = 0
        for line in lines:
            try:
                msg = _decode(line)
            except (ValueError, KeyError, TypeError):
                logger.error("an unreadable spool line (%d bytes) moved to %s", len(line), self.rejected)
                with self.rejected.open("a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
                done += 1
                continue
            if not handle(msg):
                break
            done += 1
        if done:
            with self._mutex:
                # lines appended while we drained stay after the handled prefix
                self._rewrite(self._lines()[done:])
        return done

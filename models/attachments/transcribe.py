"""Speech to text for voice messages: a pluggable step, off unless the operator names a local command.

Nothing is ever downloaded: `CommandTranscriber` runs a program the operator installed (for example
a whisper.cpp or FunASR wrapper over a model directory on the host) as `<command> <file>` and reads
the text it prints. With no command configured, `make_transcriber` returns None and voice messages
are only kept and flagged for the gridworker to listen to.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from pathlib import Path
from typing import Protocol

from gridbot.models.settings import AttachmentSettings

logger = logging.getLogger(__name__)
MAX_TRANSCRIPT = 2000


class Transcriber(Protocol):
    """Turns a stored voice file into text; None when it cannot."""

    def transcribe(self, path: Path) -> str | None: ...


class CommandTranscriber:
    """Runs a local speech-to-text command on the file and takes its standard output as the text."""

    def __init__(self, command: str, timeout_s: float) -> None:
        self.argv = shlex.split(command)
        self.timeout_s = timeout_s

    def transcribe(self, path: Path) -> str | None:
        """The command's output for `path`, or None when it fails or runs too long (logged, no text)."""
        try:
            done = subprocess.run(  # noqa: S603 (the operator's own command, no shell)
                [*self.argv, str(path)],
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            logger.warning("transcription failed: %s", type(exc).__name__)
            return None
        if done.returncode != 0:
            logger.warning("transcription command exited with %d", done.returncode)
            return None
        text = done.stdout.decode("utf-8", "replace").strip()
        return text[:MAX_TRANSCRIPT] or None


def make_transcriber(settings: AttachmentSettings) -> Transcriber | None:
    """The configured transcriber, or None (no command: nothing is transcribed)."""
    if not settings.transcribe_command:
        return None
    return CommandTranscriber(settings.transcribe_command, settings.transcribe_timeout_s)

"""What the conversation needs to keep attachments: the file store, the linking window, a transcriber."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from gridbot.models.attachments.store import FileStore
from gridbot.models.attachments.transcribe import Transcriber, make_transcriber
from gridbot.models.settings import AttachmentSettings


@dataclass(frozen=True)
class AttachmentKit:
    """The configured store, how close in time a photo must be to its report, and speech-to-text (or None)."""

    store: FileStore
    window: timedelta
    transcriber: Transcriber | None = None

    @classmethod
    def from_settings(cls, settings: AttachmentSettings) -> AttachmentKit:
        """Built once per process from `Settings.attachments`."""
        return cls(
            FileStore(settings), timedelta(minutes=settings.link_window_minutes), make_transcriber(settings)
        )

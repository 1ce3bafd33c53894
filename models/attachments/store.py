"""The attachments directory: files named by their SHA-256, accepted by sniffed type and size.

A file's name on disk says nothing about a resident (no original name, no message id); the type
comes from the file's first bytes, never from the name or the platform's claim; a file over the size
limit or of a type not allowed is refused with a reason. Transports download into `incoming/`; only
files under that folder are ever taken (a path from anywhere else is refused, so a forged message
cannot make the bot copy a file of the host).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gridbot.models.settings import AttachmentSettings

logger = logging.getLogger(__name__)
_CHUNK = 1 << 16

# (offset, magic bytes, content type); the first match wins
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"#!AMR", "audio/amr"),
    (0, b"\x02#!SILK_V3", "audio/silk"),  # WeChat voice
    (0, b"#!SILK_V3", "audio/silk"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"\xff\xfb", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"PK\x03\x04", "application/zip"),
)
_FTYP = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heic",
    b"M4A ": "audio/mp4",
    b"isom": "video/mp4",
    b"mp41": "video/mp4",
    b"mp42": "video/mp4",
    b"qt  ": "video/mp4",
}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/pdf": "pdf",
    "audio/amr": "amr",
    "audio/silk": "silk",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/wav": "wav",
    "audio/ogg": "ogg",
    "video/mp4": "mp4",
    "application/zip": "zip",
}


def sniff(head: bytes) -> str:
    """The content type told by a file's first bytes; application/octet-stream when unknown."""
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return "image/webp" if head[8:12] == b"WEBP" else "audio/wav"
    if head[4:8] == b"ftyp":
        return _FTYP.get(head[8:12], "application/octet-stream")
    for offset, magic, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return "application/octet-stream"


@dataclass(frozen=True)
class Taken:
    """What became of one file: stored under `sha256`, or refused for `reason` (too_large, type, …)."""

    content_type: str
    size_bytes: int
    sha256: str | None = None
    reason: str | None = None


class FileStore:
    """The configured attachments directory."""

    def __init__(self, settings: AttachmentSettings) -> None:
        self.settings = settings
        self.root = settings.dir
        self.incoming = settings.dir / "incoming"

    def _inside_incoming(self, path: Path) -> bool:
        try:
            return path.resolve().is_relative_to(self.incoming.resolve())
        except (OSError, RuntimeError):
            return False

    def take(self, source: str) -> Taken:
        """Check one downloaded file and copy it into the store under its hash (the source stays)."""
        path = Path(source)
        if not self._inside_incoming(path) or not path.is_file():
            return Taken("application/octet-stream", 0, reason="not_delivered")
        try:
            size = path.stat().st_size
            with path.open("rb") as fh:
                kind = sniff(fh.read(32))
            return self.put_file(path, kind, size)
        except OSError as exc:  # a full disk must not lose the message: it is stored without its file
            logger.error("attachment not stored: %s", type(exc).__name__)
            return Taken("application/octet-stream", 0, reason="store_failed")

    def put_bytes(self, data: bytes) -> Taken:
        """Check and store an uploaded file (the work page's 处置后照片)."""
        kind = sniff(data[:32])
        refused = self._refusal(kind, len(data))
        if refused:
            return Taken(kind, len(data), reason=refused)
        digest = hashlib.sha256(data).hexdigest()
        self._write(digest, lambda fh: fh.write(data))
        return Taken(kind, len(data), sha256=digest)

    def put_file(self, path: Path, kind: str, size: int) -> Taken:
        """Store a file of a known type and size under its hash, or refuse it."""
        refused = self._refusal(kind, size)
        if refused:
            return Taken(kind, size, reason=refused)
        h = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
        digest = h.hexdigest()

        def copy(out: BinaryIO) -> None:
            with path.open("rb") as src:
                while chunk := src.read(_CHUNK):
                    out.write(chunk)

        self._write(digest, copy)
        return Taken(kind, size, sha256=digest)

    def _refusal(self, kind: str, size: int) -> str | None:
        if size > self.settings.max_bytes:
            return "too_large"
        if size == 0:
            return "empty"
        if kind not in self.settings.allowed_types:
            return "type_not_allowed"
        return None

    def path_of(self, sha256: str) -> Path:
        """Where the file with this hash lives."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def _write(self, sha256: str, write: Callable[[BinaryIO], object]) -> None:
        target = self.path_of(sha256)
        if target.exists():
            return  # the same content is stored once
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{sha256}.{secrets.token_hex(4)}.tmp")
        with tmp.open("wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)

    def delete(self, sha256: str) -> bool:
        """Remove a stored file; whether it was there."""
        try:
            self.path_of(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def discard_incoming(self, source: str | None) -> None:
        """Remove a transport's download once its message is stored (or ignored)."""
        if source and self._inside_incoming(Path(source)):
            with contextlib.suppress(OSError):
                Path(source).unlink()

    def sweep_incoming(self, older_than_s: float) -> int:
        """Remove downloads left in incoming/ by a crash between storing a message and removing them.

        Only files older than `older_than_s` go (a message still waiting in the spool keeps its file
        far longer than any crash window); returns how many.
        """
        if not self.incoming.is_dir():
            return 0
        cutoff = time.time() - older_than_s
        removed = 0
        for path in self.incoming.iterdir():
            with contextlib.suppress(OSError):
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed

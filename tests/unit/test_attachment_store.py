"""The attachments directory: types sniffed from the bytes, limits, names by hash, only incoming/ read."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridbot.models.attachments.store import FileStore, sniff
from gridbot.models.attachments.transcribe import make_transcriber
from gridbot.models.settings import AttachmentSettings
from gridbot.models.tickets.sla import SLAPolicyError, load_policy


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic", "image/heic"),
        (b"\x02#!SILK_V3\x00", "audio/silk"),
        (b"#!AMR\n", "audio/amr"),
        (b"%PDF-1.7", "application/pdf"),
        (b"<html><script>", "application/octet-stream"),
        (b"MZ\x90\x00", "application/octet-stream"),
    ],
)
def test_the_type_comes_from_the_bytes(head: bytes, kind: str) -> None:
    assert sniff(head) == kind


def test_a_file_is_named_by_its_hash_and_stored_once(tmp_path: Path) -> None:
    store = FileStore(AttachmentSettings(dir=tmp_path / "att"))
    store.incoming.mkdir(parents=True)
    download = store.incoming / "张三身份证.jpg"
    download.write_bytes(b"\xff\xd8\xff\xe0 photo")
    first, again = store.take(str(download)), store.put_bytes(b"\xff\xd8\xff\xe0 photo")
    assert first.sha256 == again.sha256 and first.content_type == "image/jpeg"
    stored = [p for p in store.root.rglob("*") if p.is_file() and p.parent != store.incoming]
    assert [p.name for p in stored] == [first.sha256]
    assert oct(stored[0].stat().st_mode & 0o777) == "0o600"
    store.discard_incoming(str(download))
    assert not download.exists()


def test_limits_refuse_with_a_reason(tmp_path: Path) -> None:
    store = FileStore(AttachmentSettings(dir=tmp_path, max_bytes=1024, allowed_types=["image/png"]))
    assert store.put_bytes(b"\xff\xd8\xff" + b"\x00" * 10).reason == "type_not_allowed"
    assert store.put_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000).reason == "too_large"
    assert store.put_bytes(b"").reason == "empty"
    assert not any(tmp_path.rglob("*"))


def test_outside_incoming_is_never_read(tmp_path: Path) -> None:
    store = FileStore(AttachmentSettings(dir=tmp_path / "att"))
    store.incoming.mkdir(parents=True)
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\n secret")
    link = store.incoming / "link"
    link.symlink_to(outside)
    for path in (str(outside), str(link), str(store.incoming / ".." / ".." / "secret.png")):
        assert store.take(path).reason == "not_delivered"
    store.discard_incoming(str(outside))
    assert outside.exists()


def test_no_transcriber_unless_a_command_is_configured() -> None:
    assert make_transcriber(AttachmentSettings()) is None
    assert make_transcriber(AttachmentSettings(transcribe_command="")) is None
    assert make_transcriber(AttachmentSettings(transcribe_command="/opt/stt/run --model /opt/m")) is not None


def test_the_closing_policy_names_known_categories(tmp_path: Path) -> None:
    default = Path(load_policy().source).read_text(encoding="utf-8")
    assert load_policy().photo_required == frozenset()
    good = tmp_path / "good.yaml"
    good.write_text(default.replace("photo_required: []", "photo_required: [violation]"), encoding="utf-8")
    assert load_policy(good).photo_required == frozenset({"violation"})
    bad = tmp_path / "bad.yaml"
    bad.write_text(default.replace("photo_required: []", "photo_required: [nonsense]"), encoding="utf-8")
    with pytest.raises(SLAPolicyError, match="unknown category 'nonsense'"):
        load_policy(bad)


def test_old_downloads_left_by_a_crash_are_swept(tmp_path: Path) -> None:
    import os

    store = FileStore(AttachmentSettings(dir=tmp_path))
    store.incoming.mkdir()
    old, fresh = store.incoming / "old", store.incoming / "fresh"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(old, (0, 0))
    assert store.sweep_incoming(3600) == 1
    assert [p.name for p in store.incoming.iterdir()] == ["fresh"]


def test_a_store_that_cannot_write_refuses_instead_of_failing(tmp_path: Path) -> None:
    import hashlib

    store = FileStore(AttachmentSettings(dir=tmp_path / "att"))
    store.incoming.mkdir(parents=True)
    data = b"\x89PNG\r\n\x1a\n photo"
    download = store.incoming / "d"
    download.write_bytes(data)
    # a file where the hash folder should be: the write fails as on a full or broken disk
    (store.root / hashlib.sha256(data).hexdigest()[:2]).write_bytes(b"")
    assert store.take(str(download)).reason == "store_failed"

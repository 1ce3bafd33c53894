"""The community knowledge base: import from YAML/XLSX, entries a grid may answer from, answers given,
and entries gridworkers suggest (`答 #42 … 存为常见问题`) waiting for review.

File format (YAML): `region` (region code), optional `source`, and `entries`, each with `id`,
`questions` (variants), `answer`, optional `valid_until` (date) and `source`. XLSX: one sheet with
the header 编号 | 问题 | 答案 | 有效期至 | 来源 (问题: variants separated by ｜ or a line break),
the region given on the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import Grid, Region, Ticket
from gridbot.models.entities.knowledge import EntryStatus, KnowledgeAnswer, KnowledgeEntry
from gridbot.models.enums import TicketStatus


class KnowledgeFileError(ValueError):
    """A knowledge-base file that cannot be imported; the message names the file and the row."""


@dataclass(frozen=True)
class EntryIn:
    """One entry as read from a file."""

    key: str
    questions: tuple[str, ...]
    answer: str
    source: str
    valid_until: date | None


def _entry(src: str, where: str, raw: dict[str, Any], default_source: str) -> EntryIn:
    key = str(raw.get("id") or "").strip()
    questions = raw.get("questions")
    if isinstance(questions, str):
        questions = [q for q in questions.replace("｜", "\n").replace("|", "\n").splitlines()]
    answer = str(raw.get("answer") or "").strip()
    if not key or len(key) > 64:
        raise KnowledgeFileError(f"{src} {where}: every entry needs an id (at most 64 characters)")
    qs = tuple(q.strip() for q in (questions or []) if str(q).strip())
    if not qs or not answer:
        raise KnowledgeFileError(f"{src} {where} ({key}): needs at least one question and an answer")
    until = raw.get("valid_until")
    if isinstance(until, datetime):
        until = until.date()
    if until is not None and not isinstance(until, date):
        try:
            until = date.fromisoformat(str(until))
        except ValueError:
            raise KnowledgeFileError(
                f"{src} {where} ({key}): valid_until must be a date like 2027-06-30"
            ) from None
    return EntryIn(key, qs, answer, str(raw.get("source") or default_source)[:200], until)


def read_file(path: Path, region: str | None = None) -> tuple[str, list[EntryIn]]:
    """(region code, entries) of a YAML or XLSX file; `region` overrides (and is needed for XLSX)."""
    src = str(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, region)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeFileError(f"{src}: cannot read it as YAML ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise KnowledgeFileError(f"{src}: expected a mapping with `region` and a list `entries`")
    code = region or data.get("region")
    if not code:
        raise KnowledgeFileError(f"{src}: no `region` in the file; add it or pass --region CODE")
    source = str(data.get("source") or "")
    entries = [_entry(src, f"entry {i + 1}", e, source) for i, e in enumerate(data["entries"])]
    return str(code), entries


def _read_xlsx(path: Path, region: str | None) -> tuple[str, list[EntryIn]]:
    from openpyxl import load_workbook

    if not region:
        raise KnowledgeFileError(f"{path}: an XLSX file needs --region CODE")
    sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    names = {"编号": "id", "问题": "questions", "答案": "answer", "有效期至": "valid_until", "来源": "source"}
    header = [names.get(str(c).strip(), "") if c is not None else "" for c in rows[0]] if rows else []
    if not {"id", "questions", "answer"} <= set(header):
        raise KnowledgeFileError(
            f"{path}: the first row must name the columns 编号, 问题, 答案 (有效期至, 来源)"
        )
    entries = []
    for n, row in enumerate(rows[1:], start=2):
        raw = {h: v for h, v in zip(header, row, strict=False) if h and v is not None}
        if raw:
            entries.append(_entry(str(path), f"row {n}", raw, ""))
    return region, entries


def import_entries(
    session: Session, region: Region, entries: Sequence[EntryIn], now: datetime
) -> tuple[int, int]:
    """Create or update the region's entries by id (active at once); returns (created, updated)."""
    created = updated = 0
    for e in entries:
        row = session.scalar(
            select(KnowledgeEntry).where(KnowledgeEntry.region_id == region.id, KnowledgeEntry.key == e.key)
        )
        if row is None:
            row = KnowledgeEntry(region_id=region.id, key=e.key, created_at=now)
            session.add(row)
            created += 1
        else:
            updated += 1
        row.questions, row.answer, row.source = list(e.questions), e.answer, e.source
        row.valid_until, row.status, row.updated_at = e.valid_until, EntryStatus.ACTIVE, now
    session.flush()
    return created, updated


def entries_for_grid(session: Session, grid: Grid, today: date) -> list[KnowledgeEntry]:
    """Active, unexpired entries of the grid's community and every region above it."""
    ids = [int(p) for p in grid.region_path.strip("/").split("/") if p]
    return list(
        session.scalars(
            select(KnowledgeEntry)
            .where(
                KnowledgeEntry.region_id.in_(ids),
                KnowledgeEntry.status == EntryStatus.ACTIVE,
                (KnowledgeEntry.valid_until.is_(None)) | (KnowledgeEntry.valid_until >= today),
            )
            .order_by(KnowledgeEntry.id)
        )
    )


def record_answer(
    session: Session, entry: KnowledgeEntry, ticket: Ticket, score: float, now: datetime
) -> None:
    """Remember that this ticket was answered from this entry."""
    session.add(KnowledgeAnswer(entry_id=entry.id, ticket_id=ticket.id, score=score, answered_at=now))
    session.flush()


def answered_awaiting(
    session: Session, person_id: int, grid_id: int, now: datetime, window: timedelta
) -> Ticket | None:
    """The member's newest question answered from the knowledge base, still resolved and not escalated."""
    return session.scalar(
        select(Ticket)
        .join(KnowledgeAnswer, KnowledgeAnswer.ticket_id == Ticket.id)
        .where(
            Ticket.reporter_id == person_id,
            Ticket.grid_id == grid_id,
            Ticket.status == TicketStatus.RESOLVED,
            KnowledgeAnswer.escalated_at.is_(None),
            KnowledgeAnswer.answered_at >= now - window,
        )
        .order_by(KnowledgeAnswer.answered_at.desc())
        .limit(1)
    )


def mark_escalated(session: Session, ticket_id: int, now: datetime) -> None:
    """The resident asked for a person (人工)."""
    row = session.scalar(select(KnowledgeAnswer).where(KnowledgeAnswer.ticket_id == ticket_id))
    if row is not None:
        row.escalated_at = now


def suggest(
    session: Session, ticket: Ticket, answer: str, source: str, author_id: int | None, now: datetime
) -> KnowledgeEntry:
    """A gridworker's answer to a ticket, kept as an entry for review (not used until approved)."""
    grid = session.get(Grid, ticket.grid_id)
    assert grid is not None
    key = f"ticket-{ticket.id}"
    row = session.scalar(
        select(KnowledgeEntry).where(KnowledgeEntry.region_id == grid.community_id, KnowledgeEntry.key == key)
    )
    if row is None:
        row = KnowledgeEntry(region_id=grid.community_id, key=key, created_at=now)
        session.add(row)
    row.questions = [ticket.text_masked or ticket.text]
    row.answer, row.source, row.status = answer, source[:200], EntryStatus.PENDING_REVIEW
    row.from_ticket_id, row.author_id, row.updated_at = ticket.id, author_id, now
    session.flush()
    return row


def pending_review(session: Session, region_path: str = "/") -> list[KnowledgeEntry]:
    """Entries waiting for review under a region."""
    return list(
        session.scalars(
            select(KnowledgeEntry)
            .join(Region, Region.id == KnowledgeEntry.region_id)
            .where(KnowledgeEntry.status == EntryStatus.PENDING_REVIEW, Region.path.startswith(region_path))
            .order_by(KnowledgeEntry.id)
        )
    )


def approve(session: Session, entry_id: int, now: datetime) -> KnowledgeEntry | None:
    """Make a reviewed entry answer residents."""
    row = session.get(KnowledgeEntry, entry_id)
    if row is None:
        return None
    row.status, row.updated_at = EntryStatus.ACTIVE, now
    return row

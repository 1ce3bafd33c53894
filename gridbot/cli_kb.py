"""Knowledge-base commands: `gridbot kb import|list|approve|eval`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gridbot.runtime import fail, open_engine

kb_app = typer.Typer(
    help="The community knowledge base (常见问题) the bot answers questions from.", no_args_is_help=True
)
SAMPLE_DIR = Path(__file__).resolve().parent / "nlp" / "data" / "faq"


@kb_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A YAML or XLSX file (format: docs/knowledge.md).")],
    region: Annotated[
        str | None, typer.Option(help="Region code; overrides the file's (needed for XLSX).")
    ] = None,
) -> None:
    """Create or update a region's entries from a file (active at once)."""
    from gridbot.models.db import make_session_factory, transaction
    from gridbot.models.entities import utcnow
    from gridbot.models.knowledge import KnowledgeFileError, import_entries, read_file
    from gridbot.models.org.directory import DirectoryError
    from gridbot.models.org.tokens import find_region

    try:
        code, entries = read_file(file, region)
    except KnowledgeFileError as exc:
        fail(str(exc), code=2)
    engine = open_engine()
    with transaction(make_session_factory(engine)) as session:
        try:
            target = find_region(session, code)
        except DirectoryError as exc:
            fail(f"{exc.user_message}: create the region first, or fix `region` / --region", code=2)
        created, updated = import_entries(session, target, entries, utcnow())
    typer.echo(f"{file}: {created} entries created, {updated} updated for {code}")


@kb_app.command("list")
def list_(
    pending: Annotated[bool, typer.Option("--pending", help="Only entries waiting for review.")] = False,
) -> None:
    """Entries (id, region, status, first question → answer)."""
    from sqlalchemy import select

    from gridbot.models.db import make_session_factory
    from gridbot.models.entities import KnowledgeEntry
    from gridbot.models.knowledge import pending_review

    engine = open_engine()
    with make_session_factory(engine)() as session:
        rows = (
            pending_review(session)
            if pending
            else list(session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id)))
        )
        for e in rows:
            typer.echo(f"{e.id}\t{e.key}\t{e.status.value}\t{e.questions[0][:30]} → {e.answer[:40]}")


@kb_app.command("approve")
def approve_(entry_id: Annotated[int, typer.Argument(min=1)]) -> None:
    """Approve an entry a gridworker suggested (答 … 存为常见问题): it answers residents from now on."""
    from gridbot.models.db import make_session_factory, transaction
    from gridbot.models.entities import utcnow
    from gridbot.models.knowledge import approve

    engine = open_engine()
    with transaction(make_session_factory(engine)) as session:
        if approve(session, entry_id, utcnow()) is None:
            fail(f"no entry {entry_id}")
    typer.echo(f"entry {entry_id} approved")


@kb_app.command("eval")
def eval_(
    kb: Annotated[Path, typer.Option(help="Knowledge-base YAML.")] = SAMPLE_DIR / "sample_kb.yaml",
    data: Annotated[Path, typer.Option(help="Labelled JSONL: {text, entry|null}.")] = SAMPLE_DIR
    / "paraphrases.jsonl",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Precision and recall of answering on a labelled paraphrase set, at the settings and around them."""
    from gridbot.models.knowledge import KnowledgeFileError, read_file
    from gridbot.models.settings import get_settings
    from gridbot.nlp.faq import Entry, FaqIndex, Thresholds, evaluate

    try:
        _, entries = read_file(kb)
    except KnowledgeFileError as exc:
        fail(str(exc), code=2)
    rows = [
        (r["text"], r["entry"]) for r in map(json.loads, data.read_text(encoding="utf-8").splitlines()) if r
    ]
    index = FaqIndex([Entry(e.key, e.questions) for e in entries])
    s = get_settings().knowledge
    results = []
    for coverage in (0.0, 0.5, s.coverage):
        for threshold in (0.3, s.threshold, 0.6):
            r = evaluate(index, rows, Thresholds(threshold, s.margin, coverage))
            results.append(
                {
                    "threshold": threshold,
                    "margin": s.margin,
                    "coverage": coverage,
                    "precision": round(r.precision, 3),
                    "recall": round(r.recall, 3),
                    "answered": r.answered,
                    "wrong": r.wrong,
                    "unanswerable_answered": r.negatives_answered,
                    "settings": threshold == s.threshold and coverage == s.coverage,
                }
            )
    positives = sum(1 for _, label in rows if label is not None)
    if as_json:
        typer.echo(
            json.dumps({"rows": len(rows), "answerable": positives, "results": results}, ensure_ascii=False)
        )
        return
    typer.echo(f"{len(rows)} questions, {positives} answerable, {len(entries)} entries")
    for x in results:
        mark = "  ← settings" if x["settings"] else ""
        typer.echo(
            f"threshold {x['threshold']:.2f} margin {x['margin']:.2f} coverage {x['coverage']:.2f}: "
            f"precision {x['precision']:.3f} recall {x['recall']:.3f} ({x['answered']} answered, {x['wrong']} wrong){mark}"
        )


def register(app: typer.Typer) -> None:
    """Attach `gridbot kb …`."""
    app.add_typer(kb_app, name="kb")

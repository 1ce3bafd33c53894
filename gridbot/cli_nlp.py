"""NLP commands: classify, train, eval, export-corrections (filled by the NLP work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the NLP commands to the main app."""

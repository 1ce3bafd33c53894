"""Database commands: `gridbot db upgrade` and friends."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the `db` command group to the main app."""

"""The `gridbot` command: one Typer app; each layer contributes its sub-commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="gridbot",
    help="gridbot: WeChat grid-group chatbot for grid-based social governance.",
    no_args_is_help=True,
    add_completion=False,
)


def _register() -> None:
    """Attach the layers' command groups (imported lazily so `gridbot --help` stays fast)."""
    from gridbot import cli_api, cli_bot, cli_db, cli_exchange, cli_kb, cli_nlp, cli_seed

    cli_db.register(app)
    cli_nlp.register(app)
    cli_bot.register(app)
    cli_seed.register(app)
    cli_api.register(app)
    cli_exchange.register(app)
    cli_kb.register(app)


def main() -> None:
    """Console-script entry point."""
    _register()
    app()

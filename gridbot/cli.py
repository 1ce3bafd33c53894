"""The `gridbot` command: one Typer app; each layer contributes its sub-commands."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
import typer.core

app = typer.Typer(
    name="gridbot",
    help="gridbot: WeChat grid-group chatbot for grid-based social governance.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,  # main() prints setup mistakes in one line; --debug shows tracebacks
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # 0.1 s: only for --version

    try:
        return version("gridbot")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"gridbot {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks of errors.")] = False,
) -> None:
    """gridbot: WeChat grid-group chatbot for grid-based social governance."""


def _flags_without_type() -> None:
    """Typer 0.29 labels every flag `<bool>` in help, as if it took a value; a flag takes none."""
    original = typer.core.TyperOption.display_type_rich

    def display(self: typer.core.TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else original(self, ctx)

    setattr(typer.core.TyperOption, "display_type_rich", display)  # noqa: B010


def _register() -> None:
    """Attach the layers' command groups (imported lazily so `gridbot --help` stays fast)."""
    from gridbot import cli_api, cli_bot, cli_db, cli_exchange, cli_kb, cli_nlp, cli_org, cli_seed, cli_setup

    cli_setup.register(app)
    cli_db.register(app)
    cli_org.register(app)
    cli_nlp.register(app)
    cli_bot.register(app)
    cli_seed.register(app)
    cli_api.register(app)
    cli_exchange.register(app)
    cli_kb.register(app)


def main() -> None:
    """Console-script entry point: setup mistakes become one or two lines, not a traceback."""
    _flags_without_type()
    _register()
    debug = "--debug" in sys.argv[1:]
    try:
        app()
    except Exception as exc:
        if debug:
            raise
        from gridbot.setup_errors import explain

        message = explain(exc) or f"{type(exc).__name__} (run `gridbot --debug ...` for the traceback)"
        typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
        sys.exit(1)

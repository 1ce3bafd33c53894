"""The `gridbot` command: one Typer app; each layer contributes its sub-commands."""

from __future__ import annotations

import importlib
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


# Which module registers each top-level command. `gridbot run` imports and builds only its own group:
# importing all nine modules and building their 40-odd commands cost every start ~30 ms (issue 19).
# A word not listed here (a typo, a new command missing from this table) registers them all.
COMMAND_MODULES = {
    "init": "cli_setup",
    "doctor": "cli_setup",
    "status": "cli_setup",
    "calendar": "cli_setup",
    "db": "cli_db",
    "org": "cli_org",
    "role": "cli_org",
    "grid": "cli_org",
    "classify": "cli_nlp",
    "train": "cli_nlp",
    "eval": "cli_nlp",
    "export-corrections": "cli_nlp",
    "demo": "cli_bot",
    "replay": "cli_bot",
    "run": "cli_bot",
    "seed-demo": "cli_seed",
    "rollup": "cli_seed",
    "api": "cli_api",
    "token": "cli_api",
    "exchange": "cli_exchange",
    "kb": "cli_kb",
}
MODULES = (
    "cli_setup",
    "cli_db",
    "cli_org",
    "cli_nlp",
    "cli_bot",
    "cli_seed",
    "cli_api",
    "cli_exchange",
    "cli_kb",
)


def _modules_for(args: list[str]) -> tuple[str, ...]:
    """The command modules a command line needs: the named command's own, or all of them (root help,
    no command, an unknown word)."""
    for arg in args:
        if arg in ("-h", "--help"):  # the root's help lists every command
            return MODULES
        if not arg.startswith("-"):  # the root takes flags only: the first word is the command
            return (COMMAND_MODULES[arg],) if arg in COMMAND_MODULES else MODULES
    return MODULES


def _register(args: list[str] | None = None) -> None:
    """Attach the layers' command groups (imported lazily so `gridbot --help` stays fast); with the
    command line's `args`, only the group of the command it names."""
    for name in MODULES if args is None else _modules_for(args):
        importlib.import_module(f"gridbot.{name}").register(app)


def main() -> None:
    """Console-script entry point: setup mistakes become one or two lines, not a traceback."""
    _flags_without_type()
    _register(sys.argv[1:])
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

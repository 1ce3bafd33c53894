"""`gridbot CMD` registers only CMD's command group; the table that says which is complete."""

from __future__ import annotations

import importlib

import pytest
import typer
from typer.testing import CliRunner

from gridbot import cli


def _names(module: str) -> set[str]:
    group = typer.Typer()
    importlib.import_module(f"gridbot.{module}").register(group)
    return {c.name or "" for c in group.registered_commands} | {g.name or "" for g in group.registered_groups}


def test_every_command_is_in_the_table_under_the_module_that_registers_it() -> None:
    registered = {name: module for module in cli.MODULES for name in _names(module)}
    assert registered == cli.COMMAND_MODULES


@pytest.mark.parametrize(
    ("args", "modules"),
    [
        (["run", "--transport", "journal"], ("cli_bot",)),
        (["--debug", "db", "upgrade"], ("cli_db",)),
        (["classify", "--help"], ("cli_nlp",)),
        ([], cli.MODULES),
        (["--help"], cli.MODULES),
        (["--help", "run"], cli.MODULES),
        (["rn"], cli.MODULES),  # a typo: click's suggestion needs every name
    ],
)
def test_a_command_line_needs_only_its_commands_module(args: list[str], modules: tuple[str, ...]) -> None:
    assert cli._modules_for(args) == modules


def test_the_root_help_lists_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    app = typer.Typer(add_completion=False)
    app.callback()(lambda: None)
    monkeypatch.setattr(cli, "app", app)
    cli._register(["--help"])
    out = CliRunner().invoke(app, ["--help"], terminal_width=200).output
    assert all(name in out for name in cli.COMMAND_MODULES)

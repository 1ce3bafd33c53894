"""Organisation commands: `gridbot org import|import-geo|template|list`, `gridbot role grant|revoke`, `gridbot grid bind-code`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import typer

from gridbot.runtime import fail, open_engine

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

org_app = typer.Typer(help="The organisation: regions, grids, people (import the street office's sheet).")
role_app = typer.Typer(help="Grant or revoke a person's role.", no_args_is_help=True)
grid_app = typer.Typer(help="Grids: one-time codes to bind a WeChat group.", no_args_is_help=True)


class _Report(Protocol):
    changes: list[str]

    def summary(self) -> str: ...


def _apply(run: Callable[[Session], _Report], dry_run: bool) -> None:
    """Run an import in one transaction: list its changes, then commit, or roll back for a dry run."""
    from gridbot.models.db import make_session_factory
    from gridbot.models.org.directory import DirectoryError

    with make_session_factory(open_engine())() as session:
        try:
            report = run(session)
        except DirectoryError as exc:
            session.rollback()
            fail(exc.user_message, code=2)
        for line in report.changes:
            typer.echo(f"  {line}")
        if dry_run:
            session.rollback()
            typer.echo(f"（试运行，未写入）{report.summary()}")
            return
        session.commit()
    typer.echo(f"导入完成：{report.summary()}")


@org_app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            help="An .xlsx with sheets 区域/网格/人员 (or the office's own names and headers), or a folder of CSVs."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; write nothing.")
    ] = False,
) -> None:
    """Import the organisation sheet (idempotent; one bad row and nothing is written)."""
    from gridbot.models.org.directory import DirectoryError
    from gridbot.models.org.org_import import import_org
    from gridbot.models.org.org_sheet import read_path

    try:
        tables = read_path(file)
    except DirectoryError as exc:
        fail(exc.user_message, code=2)
    _apply(lambda session: import_org(session, tables), dry_run)


@org_app.command("import-geo")
def import_geo(
    file: Annotated[
        Path, typer.Argument(help="A GeoJSON FeatureCollection; each feature's 编码 names its grid.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; write nothing.")
    ] = False,
) -> None:
    """Import grid outlines for the dashboard's map (idempotent; one bad feature and nothing is written)."""
    from gridbot.models.org.grid_position import import_geo as apply_geo

    if not file.is_file():
        fail(f"找不到文件 {file}", code=2)
    _apply(lambda session: apply_geo(session, file.read_bytes(), file.name), dry_run)


@org_app.command("template")
def template(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the .xlsx.")] = Path(
        "组织架构.xlsx"
    ),
) -> None:
    """Write an empty organisation workbook with the Chinese headers and an example row."""
    from gridbot.models.org.org_sheet import write_template

    if output.exists():
        fail(f"{output} already exists; pass another --output", code=2)
    write_template(output)
    typer.echo(f"已生成模板 {output}：填写 区域、网格、人员 三张表后运行 gridbot org import {output}")


@org_app.command("list")
def list_(
    region: Annotated[str | None, typer.Option(help="Only this region's subtree (code or id).")] = None,
) -> None:
    """Print the region tree with grids, their gridworkers and bound groups."""
    from gridbot.models.db import make_session_factory
    from gridbot.models.org.directory import DirectoryError
    from gridbot.models.org.org_view import org_lines
    from gridbot.models.org.tokens import find_region

    with make_session_factory(open_engine())() as session:
        try:
            root = find_region(session, region) if region else None
        except DirectoryError as exc:
            fail(exc.user_message, code=2)
        lines = org_lines(session, root)
    if not lines:
        typer.echo(
            "还没有任何区域：先运行 gridbot org template 生成表格，填好后 gridbot org import 表格.xlsx"
        )
    for line in lines:
        typer.echo(line)


def _role_change(person: str, role: str, scope: str, grant: bool) -> None:
    from gridbot.models.db import make_session_factory, transaction
    from gridbot.models.org.directory import DirectoryError
    from gridbot.models.org.org_view import change_role

    try:
        with transaction(make_session_factory(open_engine())) as session:
            message = change_role(session, person, role, scope, grant=grant)
    except DirectoryError as exc:
        fail(exc.user_message, code=2)
    typer.echo(message)


@role_app.command("grant")
def grant(
    person: Annotated[str, typer.Argument(help="Person id, WeChat id, phone, or a unique name.")],
    role: Annotated[
        str, typer.Argument(help="网格员/兼职网格员/网格长/社区管理员/街道管理员/区管理员/市管理员.")
    ],
    scope: Annotated[str, typer.Argument(help="Grid code (grid roles) or region code (admin roles).")],
) -> None:
    """Give a person a role over a grid or region."""
    _role_change(person, role, scope, grant=True)


@role_app.command("revoke")
def revoke(
    person: Annotated[str, typer.Argument(help="Person id, WeChat id, phone, or a unique name.")],
    role: Annotated[str, typer.Argument(help="The role to take away.")],
    scope: Annotated[str, typer.Argument(help="Grid code or region code.")],
) -> None:
    """Take a role away (the history stays)."""
    _role_change(person, role, scope, grant=False)


@grid_app.command("bind-code")
def bind_code(
    grid: Annotated[str, typer.Argument(help="The grid's code.")],
    for_: Annotated[
        str | None,
        typer.Option(
            "--for", help="An imported person (id, WeChat id, phone or unique name) the code speaks for."
        ),
    ] = None,
    minutes: Annotated[int, typer.Option(min=1, max=1440, help="How long the code is valid.")] = 30,
) -> None:
    """Issue a one-time code; `绑定 <code>` posted in the group binds it to the grid."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from gridbot.models.db import make_session_factory, transaction
    from gridbot.models.entities import Grid
    from gridbot.models.org import bind_codes
    from gridbot.models.org.directory import DirectoryError
    from gridbot.models.org.org_view import find_person
    from gridbot.models.settings import get_settings

    try:
        with transaction(make_session_factory(open_engine())) as session:
            row = session.scalar(select(Grid).where(Grid.code == grid))
            if row is None:
                raise DirectoryError(f"没有编码为 {grid} 的网格（gridbot org list 查看）")
            person = find_person(session, for_) if for_ else None
            code_row, plain = bind_codes.issue(session, row, person, ttl=timedelta(minutes=minutes))
            grid_name, expires = row.name, code_row.expires_at
            who = person.name if person else "管理员或本网格网格员"
    except DirectoryError as exc:
        fail(exc.user_message, code=2)
    typer.echo(f"网格 {grid_name} 的绑定码（{minutes} 分钟内有效，只能用一次）：{plain}")
    typer.echo(f"请{who}在要绑定的微信群里发送：绑定 {plain}")
    local = expires.astimezone(ZoneInfo(get_settings().sla.timezone))
    typer.echo(f"有效期至 {local:%Y-%m-%d %H:%M}（{get_settings().sla.timezone}）")


def register(app: typer.Typer) -> None:
    """Attach the `org`, `role` and `grid` command groups."""
    app.add_typer(org_app, name="org", no_args_is_help=True)
    app.add_typer(role_app, name="role")
    app.add_typer(grid_app, name="grid")

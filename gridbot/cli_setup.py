"""First run and health: `gridbot init`, `gridbot doctor`, `gridbot status`, `gridbot calendar import`."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from gridbot.runtime import fail, open_engine

calendar_app = typer.Typer(help="The holiday calendar the SLA deadlines count working days with.")


def doctor() -> None:
    """Check the database, Redis, holiday calendar, classifier, WeChat channel and time zone."""
    from gridbot.doctor import Level, run_all
    from gridbot.models.entities import utcnow
    from gridbot.models.settings import get_settings

    results = run_all(get_settings(), utcnow())
    for check in results:
        typer.echo(check.line())
    failed = [c for c in results if c.level is Level.FAIL]
    warned = [c for c in results if c.level is Level.WARN]
    if failed:
        typer.echo(f"{len(failed)} 项需要处理，{len(warned)} 项提醒")
        raise typer.Exit(1)
    typer.echo("一切正常" if not warned else f"可以运行，{len(warned)} 项提醒")


def status() -> None:
    """The bot accounts' state (waiting_scan shows the login QR link), and the calendar warning."""
    from gridbot.models.db import make_session_factory
    from gridbot.models.entities import utcnow
    from gridbot.models.messaging import bot_status
    from gridbot.models.settings import get_settings
    from gridbot.models.tickets.holidays import coverage_warning
    from gridbot.models.tickets.sla import load_policy_for

    settings = get_settings()
    with make_session_factory(open_engine(settings))() as session:
        rows = bot_status.read_all(session)
    if not rows:
        typer.echo("bot: never ran (start it: gridbot run --transport wechaty)")
    for row in rows:
        seen = row.last_message_at.isoformat(timespec="minutes") if row.last_message_at else "never"
        typer.echo(
            f"bot {row.account}: bot_status={row.state.value} logged_in={row.logged_in} "
            f"last message {seen}, checked {row.updated_at.isoformat(timespec='seconds')}"
        )
        if row.login_url:
            typer.echo(f"  扫码登录：用机器人微信扫描此二维码 {row.login_url}")
        if row.last_error:
            typer.echo(f"  {row.last_error}")
    policy = load_policy_for(settings.sla)
    warning = coverage_warning(policy.calendar, utcnow().astimezone(policy.calendar.tz).date())
    if warning:
        typer.secho(f"警告：{warning}", fg=typer.colors.YELLOW)


@calendar_app.command("import")
def calendar_import(
    file: Annotated[Path, typer.Argument(help="YAML: 2027: {source: ..., holidays: [...], workdays: [...]}")],
) -> None:
    """Add or replace years of holidays and 调休 days (restart the bot and API to use them)."""
    from gridbot.models.settings import get_settings
    from gridbot.models.tickets.holidays import HolidayFileError, import_holidays

    store = get_settings().sla.holidays_file
    if store is None:
        fail("GRIDBOT_SLA__HOLIDAYS_FILE is empty: set it to where imported holidays are kept", code=2)
    try:
        years = import_holidays(store, file)
    except HolidayFileError as exc:
        fail(str(exc), code=2)
    typer.echo(f"已导入 {'、'.join(str(y) for y in years)} 年的放假安排到 {store}；请重启 bot 和 api 生效")


@calendar_app.command("show")
def calendar_show() -> None:
    """Which years have a holiday list, and the warning when this or next year has none."""
    from gridbot.models.entities import utcnow
    from gridbot.models.settings import get_settings
    from gridbot.models.tickets.holidays import coverage_warning, covered_years
    from gridbot.models.tickets.sla import load_policy_for

    cal = load_policy_for(get_settings().sla).calendar
    typer.echo(f"years with holidays: {', '.join(str(y) for y in sorted(covered_years(cal))) or 'none'}")
    warning = coverage_warning(cal, utcnow().astimezone(cal.tz).date())
    if warning:
        typer.secho(f"警告：{warning}", fg=typer.colors.YELLOW)


def _env_line(key: str, value: str) -> str:
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}="{quoted}"'


def init(
    db_url: Annotated[str | None, typer.Option(help="Database URL (prompted when missing).")] = None,
    redis_url: Annotated[str | None, typer.Option(help="Redis URL; empty for none.")] = None,
    wechaty_endpoint: Annotated[
        str | None, typer.Option(help="Wechaty gateway host:port; empty for none.")
    ] = None,
    wechaty_token: Annotated[str | None, typer.Option(help="The gateway's token.")] = None,
    org: Annotated[
        Path | None, typer.Option(help="Organisation sheet to import (.xlsx or CSV folder).")
    ] = None,
    city: Annotated[str | None, typer.Option(help="City region code for the first admin token.")] = None,
    env_file: Annotated[Path, typer.Option(help="Where to write the settings.")] = Path(".env"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing env file.")] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Never prompt: take defaults for what is missing.")
    ] = False,
) -> None:
    """Write .env, migrate the database, import the organisation, print the first city-admin token."""
    from gridbot.models.settings import get_settings

    if env_file.exists() and not force:
        fail(f"{env_file} already exists: pass --force to overwrite it, or --env-file another path", code=2)
    if db_url is None:
        db_url = "sqlite:///gridbot.db" if yes else typer.prompt("数据库地址", default="sqlite:///gridbot.db")
    if redis_url is None:
        redis_url = "" if yes else typer.prompt("Redis 地址（不用则留空）", default="", show_default=False)
    if wechaty_endpoint is None:
        wechaty_endpoint = (
            ""
            if yes
            else typer.prompt("Wechaty 网关 主机:端口（暂无则留空）", default="", show_default=False)
        )
    if wechaty_endpoint and wechaty_token is None:
        wechaty_token = typer.prompt("网关令牌 WECHATY_TOKEN", hide_input=True)
    values = {"GRIDBOT_DB__URL": db_url}
    if redis_url:
        values["GRIDBOT_REDIS__URL"] = redis_url
    if wechaty_endpoint:
        values["GRIDBOT_WECHATY__ENDPOINT"] = wechaty_endpoint
        values["GRIDBOT_WECHATY__TOKEN"] = wechaty_token or ""
    lines = [
        "# written by `gridbot init`; see docs/zh/部署手册.md",
        *(_env_line(k, v) for k, v in values.items()),
    ]
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env_file.chmod(0o600)  # it holds the database password and the gateway token
    typer.echo(f"1/4 已写入 {env_file}")
    os.environ.update(values)
    get_settings.cache_clear()
    _init_database()
    if org is not None:
        _init_org(org)
    _init_token(city)


def _init_database() -> None:
    from gridbot.models.migrate import current_revision, upgrade

    engine = open_engine(migrated=False)
    try:
        upgrade(engine)
    except Exception as exc:  # reported in one line; --debug shows it whole
        fail(f"migration failed: {type(exc).__name__}: {exc}")
    typer.echo(f"2/4 数据库已就绪（版本 {current_revision(engine)}）")
    engine.dispose()


def _init_org(org: Path) -> None:
    from gridbot.models.db import make_session_factory, transaction
    from gridbot.models.org.directory import DirectoryError
    from gridbot.models.org.org_import import import_org
    from gridbot.models.org.org_sheet import read_path

    try:
        tables = read_path(org)
        with transaction(make_session_factory(open_engine())) as session:
            report = import_org(session, tables)
    except DirectoryError as exc:
        fail(exc.user_message, code=2)
    typer.echo(f"3/4 组织架构已导入：{report.summary()}")


def _init_token(city_code: str | None) -> None:
    from sqlalchemy import select

    from gridbot.models.db import make_session_factory, transaction
    from gridbot.models.entities import Region
    from gridbot.models.enums import RegionLevel, Role
    from gridbot.models.org.tokens import create_token

    with transaction(make_session_factory(open_engine())) as session:
        query = select(Region).where(Region.level == RegionLevel.CITY)
        cities = session.scalars(query.where(Region.code == city_code) if city_code else query).all()
        if len(cities) != 1:
            typer.echo("4/4 还没有（唯一的）市级区域，暂不生成管理员令牌。下一步：")
            typer.echo("    gridbot org template -o 组织架构.xlsx   # 填好后")
            typer.echo("    gridbot org import 组织架构.xlsx")
            typer.echo("    gridbot token create --role city-admin --region 市编码")
            return
        city = cities[0]
        _, plain = create_token(
            session,
            role=Role.CITY_ADMIN,
            region=city,
            name=f"{city.name}管理员",
            expires_in=timedelta(days=365),
        )
        name, code = city.name, city.code
    typer.echo(f"4/4 {name}（{code}）市管理员令牌（只显示这一次，请妥善保存）：")
    typer.echo(plain)
    typer.echo("下一步：")
    typer.echo("    gridbot doctor                        # 逐项检查")
    typer.echo(
        "    gridbot api                           # 管理端 API 和数据看板 http://127.0.0.1:8000/dashboard"
    )
    typer.echo("    gridbot run --transport wechaty       # 启动机器人，日志中出现二维码时用机器人微信扫码")
    typer.echo(
        "    gridbot grid bind-code 网格编码 --for 网格员姓名   # 生成绑定码，网格员在群里发送「绑定 绑定码」"
    )


def register(app: typer.Typer) -> None:
    """Attach init, doctor, status and the calendar group."""
    app.command("init")(init)
    app.command("doctor")(doctor)
    app.command("status")(status)
    app.add_typer(calendar_app, name="calendar", no_args_is_help=True)

"""Bot commands: `gridbot demo` (simulated grid group on SQLite), `gridbot replay` (a resumable replay
against the configured database) and `gridbot run` (a real transport)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import anyio
import typer

from gridbot.runtime import check_redis, configure_logging, fail, gc_paused, open_engine

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from gridbot.bot.replay import Line
    from gridbot.handlers.types import Outcome


class TransportName(StrEnum):
    """Transports `gridbot run` can use."""

    WECHATY = "wechaty"
    WECOM = "wecom"
    CONSOLE = "console"
    JOURNAL = "journal"


class DemoChannel(StrEnum):
    """How the demo's residents' group is reached."""

    WECHAT = "wechat"  # the bot posts in the group itself (a Wechaty account)
    WECOM = "wecom"  # a WeCom external group: archive in, replies handed to the gridworker


def demo(
    transcript: Annotated[
        Path | None, typer.Option(help="JSONL transcript (default: the shipped simulated day).")
    ] = None,
    db: Annotated[Path, typer.Option(help="SQLite file for the demo (recreated).")] = Path("gridbot-demo.db"),
    tail_hours: Annotated[
        float, typer.Option(help="Simulated hours to run on after the last message.")
    ] = 3.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the closing summary.")] = False,
    channel: Annotated[
        DemoChannel, typer.Option(help="wechat: the bot posts in the group; wecom: 企业微信 handoffs.")
    ] = DemoChannel.WECHAT,
) -> None:
    """Replay a simulated day of one grid group on SQLite (no Redis, no WeChat) and print it."""
    from gridbot.bot.app import build_runtime
    from gridbot.bot.demo import DEMO_TRANSCRIPT, run_demo
    from gridbot.bot.replay import SimClock, TranscriptError, read_transcript
    from gridbot.models.messaging.coordination import LocalCoordinator
    from gridbot.models.migrate import upgrade
    from gridbot.models.settings import DBSettings, get_settings

    settings = get_settings().model_copy(update={"db": DBSettings(url=f"sqlite:///{db}")})
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    try:
        lines = read_transcript(transcript or DEMO_TRANSCRIPT)
    except (OSError, TranscriptError) as exc:
        fail(str(exc), code=2)
    if not lines:
        fail("the transcript is empty", code=2)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = open_engine(settings, migrated=False)
    upgrade(engine)
    clock = SimClock(lines[0].at)
    runtime = build_runtime(settings, engine, coordinator=LocalCoordinator(clock=clock.seconds))
    typer.echo("正在准备分类模型…" if not quiet else "", nl=not quiet)
    runtime.classifier()
    echo = (lambda _s: None) if quiet else typer.echo
    if channel is DemoChannel.WECOM:
        from gridbot.bot.wecom.demo import run_wecom_demo

        summary = anyio.run(run_wecom_demo, runtime, clock, lines, echo, timedelta(hours=tail_hours))
    else:
        summary = anyio.run(run_demo, runtime, clock, lines, echo, timedelta(hours=tail_hours))
    typer.echo(summary)
    _dashboard_hint(runtime.sessions, db, lines[0].at)


def _dashboard_hint(sessions: sessionmaker[Session], db: Path, day: datetime) -> None:
    """How to open the dashboard on the demo database: a token for its city, the command, the dates."""
    from sqlalchemy import select

    from gridbot.models.entities import Region
    from gridbot.models.enums import RegionLevel, Role
    from gridbot.models.metrics import LOCAL_TZ
    from gridbot.models.org.tokens import create_token

    with sessions.begin() as session:
        city = session.scalars(select(Region).where(Region.level == RegionLevel.CITY)).first()
        if city is None:
            return
        _, token = create_token(session, role=Role.CITY_ADMIN, region=city, name="演示管理员")
    date = day.astimezone(LOCAL_TZ).date().isoformat()
    typer.echo("")
    typer.echo("===== 管理端看板（演示数据，统计已生成） =====")
    typer.echo(f"  GRIDBOT_DB__URL=sqlite:///{db} gridbot api")
    typer.echo(f"  浏览器打开 http://127.0.0.1:8000/dashboard ，输入令牌 {token} ，日期选 {date} 至 {date}")


def replay(
    transcript: Annotated[Path, typer.Argument(help="JSONL transcript (the format of `gridbot demo`).")],
    journal_dir: Annotated[
        Path, typer.Option(help="Where the bot's messages (sent.jsonl) and the resume cursor are kept.")
    ],
    tail_hours: Annotated[
        float, typer.Option(help="Simulated hours to run on after the last message.")
    ] = 3.0,
    progress: Annotated[bool, typer.Option(help="Print one line per handled transcript line.")] = False,
) -> None:
    """Replay a transcript against the configured database on a simulated clock; a rerun resumes it."""
    from gridbot.bot.app import build_runtime
    from gridbot.bot.replay import SimClock, TranscriptError, read_transcript
    from gridbot.bot.replay_resume import ResumableReplay
    from gridbot.models.messaging.coordination import LocalCoordinator
    from gridbot.models.settings import get_settings

    settings = get_settings()
    configure_logging(settings)
    try:
        lines = read_transcript(transcript)
    except (OSError, TranscriptError) as exc:
        fail(str(exc), code=2)
    if not lines:
        fail("the transcript is empty", code=2)
    engine = open_engine(settings)
    clock = SimClock(lines[0].at)
    # the in-process coordinator on the simulated clock: pacing and locks follow simulated time
    runtime = build_runtime(settings, engine, coordinator=LocalCoordinator(clock=clock.seconds))
    resumable = ResumableReplay(runtime, clock, journal_dir)

    def on_line(n: int, line: Line, outcome: Outcome) -> None:
        if progress:
            typer.echo(f"handled {n + 1} {line.id} {outcome.status}")
            sys.stdout.flush()

    def on_resume(start: int, reclaimed: int, recovered: int) -> None:
        if progress:
            typer.echo(f"resumed at line {start + 1}: {reclaimed} claims taken back, {recovered} routed")
            sys.stdout.flush()

    result = anyio.run(resumable.run, lines, timedelta(hours=tail_hours), on_line, on_resume)
    typer.echo(
        f"replay finished: {len(lines)} lines (this run {result.lines} from line {result.started_at + 1}), "
        f"{result.reclaimed} outbox claims taken back, {result.recovered} pending messages routed"
    )


def run(
    transport: Annotated[TransportName, typer.Option(help="Where the group lives.")] = TransportName.WECHATY,
    journal_dir: Annotated[
        Path | None, typer.Option(help="The journal transport's directory (inbound.jsonl, sent.jsonl).")
    ] = None,
) -> None:
    """Run the bot on a real WeChat group (wechaty), an interactive console group or a journal directory."""
    with gc_paused():
        from gridbot.bot.app import build_runtime, serve_until_signalled
        from gridbot.models.settings import get_settings

        settings = get_settings()
        quiet = transport is TransportName.CONSOLE and "log_level" not in settings.model_fields_set
        configure_logging(settings.model_copy(update={"log_level": "WARNING"}) if quiet else settings)
        engine = open_engine(settings)
        check_redis(settings)
        # not the model load (serve's): a first start may train it, whose garbage must not be frozen
        runtime = build_runtime(settings, engine)
    if transport is TransportName.CONSOLE:
        from gridbot.bot.console import run_console

        anyio.run(run_console, runtime)
        return
    if transport is TransportName.JOURNAL:
        from gridbot.bot.journal import JournalTransport

        if journal_dir is None:
            fail("--transport journal needs --journal-dir DIR", code=2)
        anyio.run(serve_until_signalled, runtime, JournalTransport(journal_dir))
        return
    from gridbot.bot.transport import TransportError

    if transport is TransportName.WECOM:
        from gridbot.bot.wecom.setup import build_transport

        try:
            wecom = build_transport(settings, runtime.sessions)
            anyio.run(serve_until_signalled, runtime, wecom)
        except TransportError as exc:
            fail(str(exc))
        return
    from gridbot.bot.wechaty_transport import WechatyTransport
    from gridbot.models.attachments.store import FileStore

    w = settings.wechaty
    if not w.endpoint or w.token is None:
        fail("set GRIDBOT_WECHATY__ENDPOINT and GRIDBOT_WECHATY__TOKEN (the puppet service)", code=2)
    wechaty = WechatyTransport(
        endpoint=w.endpoint,
        token=w.token.get_secret_value(),
        bot_name=w.bot_name,
        plugin_port=w.plugin_port,
        login_timeout_s=w.login_timeout_s,
        incoming_dir=FileStore(settings.attachments).incoming,
    )

    try:
        anyio.run(serve_until_signalled, runtime, wechaty)
    except TransportError as exc:
        fail(str(exc))


def register(app: typer.Typer) -> None:
    """Attach the bot commands."""
    app.command("demo")(demo)
    app.command("replay")(replay)
    app.command("run")(run)

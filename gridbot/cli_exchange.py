"""Exchange commands: `gridbot exchange run|status|dead-letters|retry|quality`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from gridbot.runtime import configure_logging, fail, open_engine

if TYPE_CHECKING:
    from gridbot.models.exchange.config import ExchangeConfig

exchange_app = typer.Typer(
    help="The 12345 / platform exchange: webhook delivery, dead letters, data quality.", no_args_is_help=True
)


def _config() -> ExchangeConfig:
    from gridbot.models.exchange.config import ExchangeConfigError, load_config
    from gridbot.models.settings import get_settings

    try:
        return load_config(get_settings().exchange.config_file)
    except ExchangeConfigError as exc:
        fail(str(exc), code=2)


@exchange_app.command("run")
def run(once: Annotated[bool, typer.Option("--once", help="One round, then exit.")] = False) -> None:
    """Deliver webhooks until SIGTERM/SIGINT (or one round with --once)."""
    import signal

    import anyio

    from gridbot.bot.webhooks import WebhookDeliverer
    from gridbot.models.db import make_session_factory
    from gridbot.models.entities import utcnow
    from gridbot.models.exchange.config import ExchangeConfigError
    from gridbot.models.settings import get_settings

    settings = get_settings()
    configure_logging(settings)
    config = _config()
    engine = open_engine(settings)
    try:
        deliverer = WebhookDeliverer(
            make_session_factory(engine), config, settings.exchange, utcnow, instance_id=settings.instance_id
        )
    except ExchangeConfigError as exc:
        fail(str(exc), code=2)

    async def main() -> None:
        try:
            if once:
                result = await deliverer.run_once()
                typer.echo(json.dumps(result.__dict__))
                return
            stop = anyio.Event()
            async with anyio.create_task_group() as tg:

                async def watch() -> None:
                    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                        async for _ in signals:
                            stop.set()
                            return

                tg.start_soon(watch)
                await deliverer.run(stop)
                tg.cancel_scope.cancel()
        finally:
            await deliverer.aclose()

    anyio.run(main)
    engine.dispose()


@exchange_app.command("status")
def status() -> None:
    """Deliveries by status, and events not yet routed to subscribers."""
    from gridbot.models.db import make_session_factory
    from gridbot.models.exchange.webhooks import backlog

    engine = open_engine()
    with make_session_factory(engine)() as session:
        typer.echo(json.dumps(backlog(session)))


@exchange_app.command("dead-letters")
def dead_letters(limit: Annotated[int, typer.Option(min=1, max=1000)] = 50) -> None:
    """The dead-letter list: deliveries given up on, newest first."""
    from gridbot.models.db import make_session_factory
    from gridbot.models.exchange.webhooks import dead_letters as dead

    engine = open_engine()
    with make_session_factory(engine)() as session:
        for d in dead(session, limit=limit):
            typer.echo(
                f"{d.id}\t{d.subscriber}\t{d.event_type.value}\tattempts={d.attempts}\t"
                f"{d.last_status_code or '-'}\t{d.last_error or ''}"
            )


@exchange_app.command("retry")
def retry(delivery_id: Annotated[int, typer.Argument(min=1)]) -> None:
    """Queue a dead letter again (same body and idempotency key)."""
    from gridbot.models.db import make_session_factory, transaction
    from gridbot.models.entities import utcnow
    from gridbot.models.exchange.webhooks import retry_dead

    engine = open_engine()
    with transaction(make_session_factory(engine)) as session:
        if not retry_dead(session, delivery_id, utcnow()):
            fail(f"no dead letter {delivery_id}")
    typer.echo(f"delivery {delivery_id} queued again")


@exchange_app.command("quality")
def quality_report(
    region: Annotated[str, typer.Option(help="Region code (its subtree is reported).")],
    days: Annotated[int, typer.Option(min=1, max=366, help="The last N local days.")] = 30,
) -> None:
    """The exchange's data-quality report (JSON): completeness, timeliness, failures."""
    from gridbot.models.db import make_session_factory
    from gridbot.models.exchange import quality
    from gridbot.models.exchange.represent import RegionNames, city_of
    from gridbot.models.metrics import LOCAL_TZ
    from gridbot.models.org.directory import DirectoryError
    from gridbot.models.org.tokens import find_region

    config = _config()
    engine = open_engine()
    today = datetime.now(UTC).astimezone(LOCAL_TZ).date()
    start = datetime.combine(today - timedelta(days=days - 1), time(), LOCAL_TZ).astimezone(UTC)
    end = datetime.combine(today + timedelta(days=1), time(), LOCAL_TZ).astimezone(UTC)
    with make_session_factory(engine)() as session:
        try:
            scope = find_region(session, region)
        except DirectoryError as exc:
            fail(exc.user_message, code=2)
        found = city_of(config, RegionNames.of(session).codes(scope.path))
        result = quality.report(session, scope.path, found[1] if found else None, start, end)
    typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))


def register(app: typer.Typer) -> None:
    """Attach `gridbot exchange …`."""
    app.add_typer(exchange_app, name="exchange")

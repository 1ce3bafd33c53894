"""API commands: `gridbot api` (uvicorn) and `gridbot token create|revoke|list`."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import typer

from gridbot.runtime import check_redis, fail, open_engine

token_app = typer.Typer(help="Administrators' API tokens (only a hash is stored).", no_args_is_help=True)


class TokenRole(StrEnum):
    """Roles a token can carry, each scoped to a region of its level."""

    COMMUNITY = "community-admin"
    STREET = "street-admin"
    DISTRICT = "district-admin"
    CITY = "city-admin"


def api(
    host: Annotated[str | None, typer.Option(help="Bind address (default GRIDBOT_API__HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default GRIDBOT_API__PORT).")] = None,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="One JSON object per log line.")] = False,
) -> None:
    """Serve the administrators' HTTP API with uvicorn (OpenAPI docs at /docs)."""
    import uvicorn

    from gridbot.api.app import create_app
    from gridbot.api.telemetry import configure_logging
    from gridbot.models.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, json_logs)
    open_engine(settings).dispose()  # fail early, with a readable message, when the database is down
    check_redis(settings)
    uvicorn.run(
        create_app(settings),
        host=host or settings.api.host,
        port=port or settings.api.port,
        log_config=None,  # keep our handlers (and the JSON format when asked)
        proxy_headers=True,
    )


@token_app.command("create")
def create(
    role: Annotated[TokenRole, typer.Option(help="The admin role of the token.")],
    region: Annotated[str, typer.Option(help="Region code or id the role covers (its level must match).")],
    name: Annotated[str | None, typer.Option(help="Who holds the token (shown in ticket trails).")] = None,
    expires_days: Annotated[int | None, typer.Option(min=1, help="Expire after N days.")] = None,
) -> None:
    """Create a token and print it once; it cannot be shown again."""
    from gridbot.models.db import make_session_factory, transaction
    from gridbot.models.enums import Role
    from gridbot.models.org.directory import DirectoryError
    from gridbot.models.org.tokens import create_token, find_region

    engine = open_engine()
    try:
        with transaction(make_session_factory(engine)) as session:
            where = find_region(session, region)
            row, plain = create_token(
                session,
                role=Role(role.value.replace("-", "_")),
                region=where,
                name=name or f"{where.name}{role.value}",
                expires_in=timedelta(days=expires_days) if expires_days else None,
            )
            token_id, region_name = row.id, where.name
    except DirectoryError as exc:
        fail(exc.user_message, code=2)
    typer.echo(f"token {token_id} for {role.value} of {region_name} (shown once, store it now):")
    typer.echo(plain)


@token_app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (from `gridbot token list`).")],
) -> None:
    """Revoke a token; requests with it get 401 from now on."""
    from gridbot.models.db import make_session_factory, transaction
    from gridbot.models.org.directory import DirectoryError
    from gridbot.models.org.tokens import revoke_token

    try:
        with transaction(make_session_factory(open_engine())) as session:
            revoke_token(session, token_id)
    except DirectoryError as exc:
        fail(exc.user_message, code=2)
    typer.echo(f"token {token_id} revoked")


@token_app.command("list")
def list_() -> None:
    """List tokens: id, name, role, region, state (never the token itself)."""
    from gridbot.models.db import make_session_factory
    from gridbot.models.entities import utcnow
    from gridbot.models.org.tokens import list_tokens

    now = utcnow()
    with make_session_factory(open_engine())() as session:
        for t in list_tokens(session):
            state = (
                "revoked" if t.revoked_at else "expired" if t.expires_at and t.expires_at <= now else "active"
            )
            last = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
            typer.echo(f"{t.id}\t{t.name}\t{t.role.value}\tregion {t.region_id}\t{state}\tlast used {last}")


def register(app: typer.Typer) -> None:
    """Attach `api` and the `token` command group to the main app."""
    app.command("api")(api)
    app.add_typer(token_app, name="token")

"""Turn the common setup mistakes into one or two lines naming the setting and the fix.

`gridbot` prints these instead of a traceback (`gridbot --debug ...` shows the traceback).
Nothing here echoes a secret: URLs are shown with the password hidden, token values never.
"""

from __future__ import annotations

import re

from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

_SECRET = re.compile(r"token|secret|password|url", re.I)
DB_URL_HELP = (
    "use e.g. postgresql+psycopg://gridbot:PASSWORD@db:5432/gridbot or sqlite:///gridbot.db; "
    "a password with / @ : or % must be percent-encoded (/ → %2F, @ → %40)"
)


def _variable(loc: tuple[object, ...]) -> str:
    return "GRIDBOT_" + "__".join(str(p).upper() for p in loc)


def explain(exc: BaseException) -> str | None:
    """The user-facing lines for a known setup mistake, or None for anything else."""
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        lines = []
        for err in exc.errors()[:3]:
            var = _variable(tuple(err["loc"]))
            shown = "" if _SECRET.search(var) else f"={err.get('input')!r}"
            lines.append(f"setting {var}{shown} is invalid: {err['msg']}. Fix it in .env or the environment.")
        return "\n".join(lines)
    if (
        isinstance(exc, ArgumentError | NoSuchModuleError)
        and "URL" in str(exc)
        or isinstance(exc, NoSuchModuleError)
    ):
        return f"GRIDBOT_DB__URL is not a usable database URL: {DB_URL_HELP}."
    if isinstance(exc, ValueError) and "Redis URL" in str(exc):
        return "GRIDBOT_REDIS__URL is not a Redis URL: use redis://HOST:6379/0 (or leave it unset to run without Redis)."
    name = type(exc).__module__ + "." + type(exc).__name__
    if name.startswith("redis.exceptions.") and "Connection" in type(exc).__name__:
        return "Redis is unreachable at GRIDBOT_REDIS__URL: start Redis, fix the URL, or unset it to run without Redis."
    if isinstance(exc, OperationalError | ProgrammingError) and unmigrated(exc):
        return "the database has no gridbot tables yet: run `gridbot db upgrade` first."
    if isinstance(exc, UnicodeDecodeError):
        return ".env is not UTF-8: save it as UTF-8 (Chinese text in other encodings cannot be read)."
    return None


def unmigrated(exc: BaseException) -> bool:
    """Whether a database error says a gridbot table is missing (the schema was never migrated)."""
    text = str(getattr(exc, "orig", None) or exc)
    return "no such table" in text or ("relation" in text and "does not exist" in text)

"""No secret in any log line, at any level: a handler filter for every entry point's log handlers.

- Every configured secret (Wechaty token, JWT secret, metrics token, database password) is replaced
  in the final text of every record, whichever logger it came from (a *handler* filter sees propagated
  records, a logger filter does not).
- Tokens in URLs (`?token=`, `access_token=`) and `Authorization: Bearer …` values are replaced too: an
  access log line of `/dashboard?token=gb_…` keeps its path, not the token.
- The HTTP/2 wire loggers (`hpack`, `h2`) are held at WARNING even under GRIDBOT_LOG_LEVEL=DEBUG: at
  DEBUG they print every header, the puppet service's token included (Huffman-coded or not).
"""

from __future__ import annotations

import logging
import re

from sqlalchemy.engine import make_url

from gridbot.models.settings import Settings

REDACTED = "<redacted>"
WIRE_LOGGERS = ("hpack", "h2", "grpclib.protocol")
_URL_TOKEN = re.compile(r"((?:^|[?&;\s\"'])(?:access_)?token=)[^&\s\"']+", re.I)
_BEARER = re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.I)
_API_TOKEN = re.compile(r"\bgb_[A-Za-z0-9_-]{20,}")


class SecretFilter(logging.Filter):
    """Rewrites a record's final text (message, arguments and traceback) without the secrets; never drops it."""

    def __init__(self, secrets: set[str]) -> None:
        super().__init__()
        self.secrets = {s for s in secrets if len(s) >= 6}

    def clean(self, text: str) -> str:
        """The text with secrets and URL/bearer tokens replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _URL_TOKEN.sub(rf"\1{REDACTED}", text)
        text = _BEARER.sub(rf"\1{REDACTED}", text)
        return _API_TOKEN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Clean the record in place."""
        text = record.getMessage()
        cleaned = self.clean(text)
        if cleaned != text:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        return True


def configured_secrets(settings: Settings) -> set[str]:
    """Every secret the settings hold."""
    password = make_url(settings.db.url).password
    found = {str(password)} if password else set()
    for value in (settings.wechaty.token, settings.api.jwt_secret, settings.api.metrics_token):
        if value is not None and value.get_secret_value():
            found.add(value.get_secret_value())
    return {s for s in found if s}


def protect_handlers(settings: Settings) -> None:
    """Attach the secret filter to every handler configured so far and quieten the wire loggers.

    Root's handlers and those a library configured on its own loggers (uvicorn's default config puts
    one on `uvicorn` and stops propagation): a record that never reaches root is still cleaned.
    """
    secret_filter = SecretFilter(configured_secrets(settings))
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, SecretFilter) for f in handler.filters):
                handler.addFilter(secret_filter)
    for name in WIRE_LOGGERS:
        wire = logging.getLogger(name)
        if wire.getEffectiveLevel() < logging.WARNING:
            wire.setLevel(logging.WARNING)

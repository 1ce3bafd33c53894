"""Exchange configuration (YAML): per-city service codes, webhook subscribers, inbound sources.

Secrets never live in the file: a subscriber names the environment variable holding its HMAC secret.
A malformed file raises ExchangeConfigError naming the file and what to fix.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gridbot.models.entities.exchange import WebhookEventType

DEFAULT_CONFIG_FILE = Path(__file__).with_name("exchange_default.yaml")


class ExchangeConfigError(ValueError):
    """The exchange file is malformed, or a secret it names is not set."""


class Service(BaseModel):
    """One Open311 service: its code and name, and the gridbot categories it covers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_code: str = Field(min_length=1, max_length=32)
    service_name: str = Field(min_length=1, max_length=100)
    description: str = ""
    group: str = ""
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


class City(BaseModel):
    """A city's Open311 jurisdiction and its category → service-code mapping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jurisdiction_id: str = Field(min_length=1, max_length=100)
    services: tuple[Service, ...]
    default_service_code: str | None = None

    def service_for(self, category: str) -> Service | None:
        """The service a gridbot category maps to (the default service when unmapped)."""
        for service in self.services:
            if category in service.categories:
                return service
        return self.by_code(self.default_service_code) if self.default_service_code else None

    def by_code(self, code: str | None) -> Service | None:
        """The service with this code."""
        return next((s for s in self.services if s.service_code == code), None)


class Subscriber(BaseModel):
    """A partner receiving signed webhooks for the tickets of one region subtree."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    url: str = Field(pattern=r"^https?://")
    secret_env: str = Field(min_length=1)
    region: str = Field(min_length=1, description="region code whose subtree this partner receives")
    events: tuple[WebhookEventType, ...] = tuple(WebhookEventType)
    timeout_s: float = Field(default=10.0, gt=0, le=120)

    def secret(self) -> bytes:
        """The HMAC secret from the environment, or ExchangeConfigError naming the variable."""
        value = os.environ.get(self.secret_env)
        if not value:
            raise ExchangeConfigError(
                f"webhook subscriber {self.name!r}: the secret variable {self.secret_env} is not set; "
                "export it (a long random string shared with the partner)"
            )
        return value.encode()


class ExchangeConfig(BaseModel):
    """The whole exchange file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cities: dict[str, City] = Field(default_factory=dict)  # region code of the city → its mapping
    subscribers: tuple[Subscriber, ...] = ()

    @field_validator("subscribers")
    @classmethod
    def _unique_names(cls, value: tuple[Subscriber, ...]) -> tuple[Subscriber, ...]:
        names = [s.name for s in value]
        if len(names) != len(set(names)):
            raise ValueError("subscriber names must be unique")
        return value


def parse_config(data: Any, source: str) -> ExchangeConfig:
    """Validate parsed YAML; errors name the file and the field."""
    try:
        return ExchangeConfig.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ExchangeConfigError(f"exchange config {source}: {where}: {first['msg']}") from None


@cache
def load_config(path: Path | None = None) -> ExchangeConfig:
    """The exchange file (the shipped default mapping when `path` is None), cached per path."""
    path = path or DEFAULT_CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExchangeConfigError(
            f"exchange config {path}: cannot read it ({exc.strerror}); fix GRIDBOT_EXCHANGE__CONFIG_FILE"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f", line {line + 1}" if line is not None else ""
        raise ExchangeConfigError(f"exchange config {path}{at}: not valid YAML") from None
    return parse_config(data, str(path))

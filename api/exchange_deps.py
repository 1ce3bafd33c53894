"""What the exchange routers share: the exchange file, the taxonomy, the caller's city, body limits."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.api.deps import ServicesDep
from gridbot.api.errors import ApiError, not_found
from gridbot.models.entities import Region
from gridbot.models.exchange.config import City, ExchangeConfig, ExchangeConfigError, load_config
from gridbot.models.org.tokens import TokenPrincipal
from gridbot.nlp.taxonomy import Taxonomy, load_taxonomy


def exchange_config(services: ServicesDep) -> ExchangeConfig:
    """The exchange file named by GRIDBOT_EXCHANGE__CONFIG_FILE (cached); 503 when it is broken."""
    try:
        return load_config(services.settings.exchange.config_file)
    except ExchangeConfigError as exc:
        raise ApiError(503, "exchange_misconfigured", f"交换配置有误：{exc}") from None


ConfigDep = Annotated[ExchangeConfig, Depends(exchange_config)]


@cache
def _taxonomy(path: Path | None) -> Taxonomy:
    return load_taxonomy(path)


def taxonomy(services: ServicesDep) -> Taxonomy:
    """The configured taxonomy (category labels and kinds), loaded once."""
    return _taxonomy(services.settings.nlp.taxonomy_file)


TaxonomyDep = Annotated[Taxonomy, Depends(taxonomy)]


def city_of_principal(
    session: Session, config: ExchangeConfig, principal: TokenPrincipal
) -> tuple[str, City]:
    """The configured city at or above the token's region; 404 when the exchange knows none."""
    ids = [int(p) for p in principal.region_path.strip("/").split("/") if p]
    codes = dict(session.execute(select(Region.id, Region.code).where(Region.id.in_(ids))).all())
    for rid in ids:
        code = codes.get(rid)
        if code is not None and code in config.cities:
            return code, config.cities[code]
    raise not_found("本辖区的交换配置（GRIDBOT_EXCHANGE__CONFIG_FILE 的 cities）")


def body_limit(request: Request, services: ServicesDep) -> None:
    """413 for a body larger than GRIDBOT_EXCHANGE__INBOUND_MAX_BYTES (checked before parsing)."""
    length = request.headers.get("content-length")
    limit = services.settings.exchange.inbound_max_bytes
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise ApiError(413, "too_large", f"请求体过大，上限 {limit} 字节")

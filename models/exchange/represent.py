"""A ticket as the exchange shows it (webhook payloads and Open311 share the facts, not the shape).

Texts are passed through the caller's `mask` (models/ cannot import nlp/): residents' personal data
leaves the system masked, like every API response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import Grid, Region, Ticket, TicketDeadline
from gridbot.models.entities.exchange import ExternalLink
from gridbot.models.enums import OPEN_STATUSES, STATUS_LABELS, DeadlineKind
from gridbot.models.exchange.config import City, ExchangeConfig

Mask = Callable[[str], str]


def iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 with an explicit offset (None stays None)."""
    return value.isoformat(timespec="seconds") if value is not None else None


@dataclass
class RegionNames:
    """Codes of regions by id, loaded once per batch."""

    session: Session
    _codes: dict[int, str]

    @classmethod
    def of(cls, session: Session) -> RegionNames:
        """An empty cache over `session`."""
        return cls(session, {})

    def codes(self, path: str) -> list[str]:
        """Region codes along a materialised path '/1/4/9/', most specific first."""
        ids = [int(p) for p in path.strip("/").split("/") if p]
        missing = [i for i in ids if i not in self._codes]
        if missing:
            for rid, code in self.session.execute(
                select(Region.id, Region.code).where(Region.id.in_(missing))
            ):
                self._codes[rid] = code
        return [self._codes[i] for i in reversed(ids) if i in self._codes]


def city_of(config: ExchangeConfig, codes: Iterable[str]) -> tuple[str, City] | None:
    """The configured city among a grid's region codes."""
    for code in codes:
        if code in config.cities:
            return code, config.cities[code]
    return None


def ticket_facts(
    session: Session, ticket: Ticket, grid: Grid, regions: RegionNames, config: ExchangeConfig, mask: Mask
) -> dict[str, Any]:
    """The ticket's state for a partner: status, category and service code, grid, deadlines, links."""
    codes = regions.codes(grid.region_path)
    city = city_of(config, codes)
    service = city[1].service_for(ticket.category) if city else None
    due = {
        d.kind.value: iso(d.due_at)
        for d in session.scalars(
            select(TicketDeadline).where(
                TicketDeadline.ticket_id == ticket.id, TicketDeadline.cycle == ticket.cycle
            )
        )
    }
    link = session.scalar(select(ExternalLink).where(ExternalLink.ticket_id == ticket.id))
    return {
        "number": ticket.id,
        "status": ticket.status.value,
        "status_label": STATUS_LABELS[ticket.status],
        "open": ticket.status in OPEN_STATUSES,
        "kind": ticket.kind.value,
        "category": ticket.category,
        "category_label": ticket.category_label,
        "service_code": service.service_code if service else None,
        "service_name": service.service_name if service else None,
        "priority": ticket.priority.value,
        "description": mask(ticket.text_masked or ticket.text),
        "resolution_note": mask(ticket.resolution_note) if ticket.resolution_note else None,
        "grid": {"code": grid.code, "name": grid.name},
        "region_codes": codes,
        "jurisdiction_id": city[1].jurisdiction_id if city else None,
        "merged_into": ticket.merged_into_id,
        "cycle": ticket.cycle,
        "version": ticket.version,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "accepted_at": iso(ticket.accepted_at),
        "first_response_at": iso(ticket.first_response_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at or ticket.rejected_at),
        "due": {k: due.get(k.value) for k in DeadlineKind},
        "external": {"source": link.source, "id": link.external_id} if link else None,
    }

"""Deadline clock operations the ticket lifecycle calls: start, meet, pause, resume, stop, reopen.

Services: they take a session and never commit. Ladder levels: 1 warn_at, 2 due_at,
3 escalate1_at, 4 escalate2_at; `fired_level` is the highest level the sweeper has fired and
`next_fire_at` the instant of the next one (None when the clock is stopped, paused, met or done).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import Ticket, TicketDeadline
from gridbot.models.enums import DeadlineKind
from gridbot.models.tickets.sla import LEVELS, Basis, DeadlineSpec, SLAPolicy


def start_clocks(session: Session, ticket: Ticket, now: datetime, policy: SLAPolicy) -> list[TicketDeadline]:
    """Create the deadlines of the ticket's current cycle from the policy (existing ones are kept)."""
    rule = policy.rule_for(ticket.kind, ticket.category, ticket.priority)
    return _create(session, ticket, now, policy, dict(rule.deadlines))


def meet(session: Session, ticket: Ticket, kind: DeadlineKind, now: datetime) -> None:
    """Mark the current cycle's deadline of `kind` met; no-op if it is absent or already met."""
    for d in _current(session, ticket):
        if d.kind is kind and d.met_at is None:
            d.met_at = now
            d.next_fire_at = None


def pause(session: Session, ticket: Ticket, now: datetime) -> None:
    """Suspension (挂起): stop the open clocks of the current cycle; nothing fires while paused."""
    for d in _current(session, ticket):
        if d.met_at is None and d.paused_at is None:
            d.paused_at = now
            d.next_fire_at = None


def resume(session: Session, ticket: Ticket, now: datetime, policy: SLAPolicy) -> None:
    """End a suspension: shift every instant by the paused span in the deadline's time basis."""
    rule = policy.rule_for(ticket.kind, ticket.category, ticket.priority)
    for d in _current(session, ticket):
        if d.met_at is not None or d.paused_at is None:
            continue
        spec = rule.deadlines.get(d.kind)
        # A deadline the current rule no longer has keeps counting calendar time.
        basis = spec.basis if spec else Basis.CALENDAR
        span = policy.elapsed(d.paused_at, now, basis)
        if span > timedelta():
            d.warn_at = policy.advance(d.warn_at, span, basis)
            d.due_at = policy.advance(d.due_at, span, basis)
            d.escalate1_at = policy.advance(d.escalate1_at, span, basis)
            d.escalate2_at = policy.advance(d.escalate2_at, span, basis)
        d.paused_at = None
        d.next_fire_at = next_fire(d)


def stop_all(session: Session, ticket: Ticket, now: datetime) -> None:
    """The ticket is closed, merged or rejected: none of its clocks fires again."""
    for d in session.scalars(select(TicketDeadline).where(TicketDeadline.ticket_id == ticket.id)):
        d.next_fire_at = None


def restart_for_reopen(
    session: Session, ticket: Ticket, now: datetime, policy: SLAPolicy
) -> list[TicketDeadline]:
    """重办: fresh resolution (and feedback) clocks for the new cycle the lifecycle has bumped to."""
    for d in session.scalars(
        select(TicketDeadline).where(
            TicketDeadline.ticket_id == ticket.id, TicketDeadline.cycle < ticket.cycle
        )
    ):
        d.next_fire_at = None
    rule = policy.rule_for(ticket.kind, ticket.category, ticket.priority)
    wanted: dict[DeadlineKind, DeadlineSpec] = {
        k: s for k, s in rule.deadlines.items() if k in (DeadlineKind.FEEDBACK, DeadlineKind.RESOLUTION)
    }
    return _create(session, ticket, now, policy, wanted)


def next_fire(d: TicketDeadline) -> datetime | None:
    """The instant of the first level not fired yet (None when all four have fired)."""
    times = (d.warn_at, d.due_at, d.escalate1_at, d.escalate2_at)
    return times[d.fired_level] if d.fired_level < len(LEVELS) else None


def _create(
    session: Session,
    ticket: Ticket,
    now: datetime,
    policy: SLAPolicy,
    specs: dict[DeadlineKind, DeadlineSpec],
) -> list[TicketDeadline]:
    if ticket.id is None:
        session.flush()
    existing = {d.kind: d for d in _current(session, ticket)}
    out: list[TicketDeadline] = []
    for kind, spec in specs.items():
        if kind in existing:
            out.append(existing[kind])
            continue
        s = policy.schedule(spec, now)
        d = TicketDeadline(
            ticket_id=ticket.id,
            kind=kind,
            cycle=ticket.cycle,
            started_at=now,
            due_at=s.due_at,
            warn_at=s.warn_at,
            escalate1_at=s.escalate1_at,
            escalate2_at=s.escalate2_at,
            fired_level=0,
            next_fire_at=s.warn_at,
        )
        session.add(d)
        out.append(d)
    session.flush()
    return out


def _current(session: Session, ticket: Ticket) -> list[TicketDeadline]:
    return list(
        session.scalars(
            select(TicketDeadline)
            .where(TicketDeadline.ticket_id == ticket.id, TicketDeadline.cycle == ticket.cycle)
            .order_by(TicketDeadline.id)
        )
    )

"""First-sight senders, in bulk: claimed from the imported people or created, and made residents.

A cold start (a bot added to busy groups, a restart with empty copies) meets many people at once;
one at a time each cost a read, a claim, an insert, a read back, a role read and a role insert.
Here a micro-batch's newcomers cost one claim read, one multi-row `INSERT … ON CONFLICT DO NOTHING
RETURNING` and one multi-row role insert, whatever their number. The caller has already found none
of them by platform id in this transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gridbot.models.db import attach, is_postgres
from gridbot.models.entities import Person, RoleAssignment, utcnow
from gridbot.models.entities.directory_version import WRITTEN
from gridbot.models.enums import Role
from gridbot.models.org.directory import handle_keys, unclaimed_matching


@dataclass(frozen=True)
class Newcomer:
    """A person met for the first time: `created` now (no roles yet), or claimed from the sheet."""

    person: Person
    created: bool


def ensure_people(session: Session, wanted: Mapping[str, tuple[str, Sequence[str]]]) -> dict[str, Newcomer]:
    """platform id → (display name, further handles) of senders not found: each claimed (an imported
    person whose 微信号/手机号/企业微信账号 matches, as `directory.claim_imported`) or created."""
    if not wanted:
        return {}
    session.info[WRITTEN] = True  # Core writes: what this transaction reads of the directory may roll back
    out = _claim(session, wanted)
    rest = [pid for pid in wanted if pid not in out]
    if not rest:
        return out
    now = utcnow()
    table = Person.__table__
    dialect = postgresql if is_postgres(session) else sqlite
    rows = [{"platform_id": pid, "name": wanted[pid][0], "created_at": now} for pid in rest]
    # insert-or-ignore: the same newcomer speaking to another instance at once must not fail a message
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=["platform_id"])
    made = session.connection().execute(stmt.returning(table.c.id, table.c.platform_id), rows).all()
    for person_id, pid in made:
        values = {"id": person_id, "platform_id": pid, "name": wanted[pid][0], "created_at": now}
        values |= {c: None for c in ("phone", "wechat_id", "phone_hash", "wecom_userid")}
        out[pid] = Newcomer(attach(session, Person, values), created=True)
    if lost := [pid for pid in rest if pid not in out]:  # another transaction stored them meanwhile
        for person in session.scalars(select(Person).where(Person.platform_id.in_(lost))):
            out[person.platform_id or ""] = Newcomer(person, created=False)
    return out


def _claim(session: Session, wanted: Mapping[str, tuple[str, Sequence[str]]]) -> dict[str, Newcomer]:
    """Imported people not yet seen whose handles match a sender's, one read for all senders."""
    keys = {pid: handle_keys(pid, handles) for pid, (_name, handles) in wanted.items()}
    ids = {pid: k[0] for pid, k in keys.items()}
    phones = {pid: k[1] for pid, k in keys.items()}
    found = list(
        session.scalars(unclaimed_matching(set().union(*ids.values()), set().union(*phones.values())))
    )
    out: dict[str, Newcomer] = {}
    for pid in wanted:
        for person in found:
            if person.platform_id is not None:
                continue  # claimed by an earlier sender of this batch
            if (
                person.wechat_id in ids[pid]
                or person.wecom_userid in ids[pid]
                or person.phone_hash in phones[pid]
            ):
                person.platform_id = pid
                out[pid] = Newcomer(person, created=False)
                break
    if out:
        session.flush()
    return out


def add_residents(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """(person id, grid id): the resident role of people created in this transaction (they hold no
    role yet, so nothing to look up), one multi-row INSERT. Changes no copy anyone holds, as
    `directory_version` counts it (a newcomer's resident role)."""
    rows = [
        {"person_id": person_id, "role": Role.RESIDENT, "grid_id": grid_id, "region_id": None, "active": True}
        for person_id, grid_id in sorted(set(pairs))
    ]
    if rows:
        now = utcnow()
        session.execute(insert(RoleAssignment), [r | {"since": now} for r in rows])
        session.info[WRITTEN] = True

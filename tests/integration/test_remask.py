"""`gridbot db remask`: rows stored by an older masker are masked again with the current one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Message, Person
from gridbot.models.enums import MessageDirection, Role
from gridbot.remask import remask
from tests.conftest import World

pytestmark = pytest.mark.integration
FULL_WIDTH_PHONE = "１３７１２３４５６７８"


def test_remask_fixes_what_the_old_masker_missed(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as session:
        person = session.get(Person, world.resident)
        assert person is not None
        person.name = "3栋2单元502王姐"  # stored verbatim before names were masked
        raw = f"电话{FULL_WIDTH_PHONE}，住三栋二单元五零一"
        session.add(
            Message(
                platform_id="old-1",
                direction=MessageDirection.INBOUND,
                grid_id=world.grid,
                sender_id=world.resident,
                sender_role=Role.RESIDENT,
                text=raw,
                text_masked=raw,  # what the old masker left
                sent_at=datetime(2026, 3, 1, tzinfo=UTC),
            )
        )
    with session_factory.begin() as session:
        changed = remask(session)
    assert changed["messages"] == 1 and changed["persons"] == 1
    with session_factory() as session:
        message = session.query(Message).filter_by(platform_id="old-1").one()
        assert message.text_masked == "电话[手机号],住[门牌号]"
        assert session.get(Person, world.resident).name == "[门牌号]王姐"  # type: ignore[union-attr]
    with session_factory.begin() as session:
        assert remask(session)["messages"] == 0  # idempotent

"""The exchange over HTTP: an inbound work order becomes a ticket in the right grid (once), reports
back its status; Open311 services and requests with the city's service codes; the quality report."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import ExternalLink, Grid, Outbox, Ticket
from gridbot.models.org import directory
from gridbot.models.org.directory import SYSTEM_ACTOR
from gridbot.models.tickets import service
from tests.api.conftest import PHONE, Seeded, Tokens
from tests.conftest import World

pytestmark = pytest.mark.anyio

ORDER = {
    "source": "12345",
    "external_id": "NJ2026031000042",
    "grid_code": "G001",
    "service_code": "03",
    "description": f"市民来电：3栋电梯停运两天，老人下不了楼，回电{PHONE}",
    "due_at": "2026-03-12T18:00:00+08:00",
}


async def test_an_inbound_work_order_becomes_a_ticket_in_the_right_grid(
    client: httpx.AsyncClient, tokens: Tokens, world: World, session_factory: sessionmaker[Session]
) -> None:
    r = await client.post("/exchange/v1/work-orders", json=ORDER, headers=tokens.city)
    assert r.status_code == 201, r.text
    ticket = r.json()["ticket"]
    assert ticket["grid"]["code"] == "G001"
    assert (ticket["category"], ticket["service_code"], ticket["status"]) == ("property", "03", "new")
    assert ticket["external"] == {"source": "12345", "id": ORDER["external_id"]}
    assert PHONE not in r.text
    with session_factory() as session:
        row = session.get(Ticket, ticket["number"])
        assert row is not None and row.grid_id == world.grid and row.assignee_id == world.worker
        (notice,) = session.scalars(select(Outbox).where(Outbox.ticket_id == row.id)).all()
        assert notice.room_id == world.room and "12345转办" in notice.text and PHONE not in notice.text

    again = await client.post("/exchange/v1/work-orders", json=ORDER, headers=tokens.city)
    assert again.status_code == 200 and again.json()["ticket"]["number"] == ticket["number"]
    with session_factory() as session:
        assert len(session.scalars(select(ExternalLink)).all()) == 1

    # report back: the platform reads the status after the gridworker acted
    with session_factory.begin() as session:
        service.accept(
            session, ticket["number"], SYSTEM_ACTOR, service.get_ticket(session, ticket["number"]).created_at
        )
    status = await client.get(f"/exchange/v1/work-orders/12345/{ORDER['external_id']}", headers=tokens.city)
    assert status.status_code == 200 and status.json()["ticket"]["status"] == "accepted"


async def test_work_orders_are_scoped_validated_and_bounded(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    outside = await client.post("/exchange/v1/work-orders", json=ORDER, headers=tokens.other_community)
    assert outside.status_code == 403
    assert (await client.post("/exchange/v1/work-orders", json=ORDER)).status_code == 401
    unknown = {**ORDER, "grid_code": "NOPE"}
    assert (
        await client.post("/exchange/v1/work-orders", json=unknown, headers=tokens.city)
    ).status_code == 404
    bad_code = {**ORDER, "service_code": "777"}
    r = await client.post("/exchange/v1/work-orders", json=bad_code, headers=tokens.city)
    assert r.status_code == 422
    huge = {**ORDER, "description": "很长" * 40_000}
    assert (await client.post("/exchange/v1/work-orders", json=huge, headers=tokens.city)).status_code == 413
    missing = await client.get("/exchange/v1/work-orders/12345/none", headers=tokens.city)
    assert missing.status_code == 404


async def test_open311_services_and_requests(
    client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded, world: World
) -> None:
    services = (await client.get("/open311/v2/services.json", headers=tokens.community)).json()
    assert {"service_code": "03", "service_name": "物业管理"}.items() <= services[2].items()
    await client.post("/exchange/v1/work-orders", json=ORDER, headers=tokens.city)
    r = await client.get("/open311/v2/requests.json?service_code=03", headers=tokens.community)
    assert r.status_code == 200
    (req,) = r.json()
    assert (req["service_code"], req["status"], req["address_id"]) == ("03", "open", "G001")
    assert PHONE not in r.text
    every = (await client.get("/open311/v2/requests.json", headers=tokens.community)).json()
    assert {int(x["service_request_id"]) for x in every} >= {seeded.mine, seeded.mine2}
    other = (await client.get("/open311/v2/requests.json", headers=tokens.other_community)).json()
    assert {int(x["service_request_id"]) for x in other} == {seeded.other}
    wrong = await client.get("/open311/v2/services.json?jurisdiction_id=elsewhere", headers=tokens.city)
    assert wrong.status_code == 404
    naive = await client.get("/open311/v2/requests.json?start_date=2026-03-01T00:00:00", headers=tokens.city)
    assert naive.status_code == 422


async def test_quality_report_counts_completeness(
    client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded
) -> None:
    await client.post("/exchange/v1/work-orders", json=ORDER, headers=tokens.city)
    r = await client.get("/exchange/v1/quality?from=2026-03-01&to=2099-12-31", headers=tokens.city)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tickets"] == 4
    assert body["completeness"]["description"] == 1.0
    assert body["timeliness"]["work_orders"] == 1
    bad = await client.get("/exchange/v1/quality?from=2026-03-10&to=2026-03-01", headers=tokens.city)
    assert bad.status_code == 422


async def test_notices_over_the_api_reach_every_group_of_a_community(
    client: httpx.AsyncClient, tokens: Tokens, world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as session:
        grid2 = session.get(Grid, world.grid2)
        assert grid2 is not None
        directory.bind_group(session, "room-g002@chatroom", grid2)
    r = await client.post(
        "/notices",
        json={"text": "本周六上午社区免费体检", "region_id": world.community},
        headers=tokens.community,
    )
    assert r.status_code == 201, r.text
    posted = r.json()
    assert {n["grid_id"] for n in posted} == {world.grid, world.grid2}
    mine = next(n for n in posted if n["grid_id"] == world.grid)
    assert (mine["total"], mine["acked"]) == (2, 0)  # the grid's two known residents
    with session_factory() as session:
        rooms = set(session.scalars(select(Outbox.room_id).where(Outbox.text.startswith("【通知】"))))
    assert rooms == {world.room, "room-g002@chatroom"}
    got = await client.get(f"/notices/{mine['id']}", headers=tokens.community)
    assert got.status_code == 200 and set(got.json()["pending"]) == {"张阿姨", "刘师傅"}
    assert (await client.get(f"/notices/{mine['id']}", headers=tokens.other_community)).status_code == 403
    outside = {"text": "x", "region_id": world.other_community}
    assert (await client.post("/notices", json=outside, headers=tokens.community)).status_code == 403
    both = {"text": "x", "region_id": world.community, "grid_id": world.grid}
    assert (await client.post("/notices", json=both, headers=tokens.community)).status_code == 422

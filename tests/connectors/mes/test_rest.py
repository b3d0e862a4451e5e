"""RestMes against the simulated MES served over HTTP by a real uvicorn server on a free
loopback port: reads and paging, every write, idempotency keys, refusals, auth and timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.base import MesSource, MesWriter
from connectors.mes import SqlMes
from connectors.mes.rest import RestMes
from connectors.simulator.mes import seed_mes
from connectors.simulator.mes_data import MES_ANCHOR
from connectors.simulator.mes_rest import MesRestServer, create_app
from factory_agents.actions import (
    DispatchEntry,
    DispatchList,
    LoadPlan,
    LoadShift,
    LoadSlot,
    LotHold,
    MaintenanceWorkOrder,
    PurchaseRequisition,
)
from factory_agents.errors import ConfigurationError, ConnectorError, WriteRejected
from factory_agents.isa95 import LotStatus
from factory_agents.site import LINE
from tests.conftest import free_port

NOW = MES_ANCHOR + timedelta(hours=1)
WEEK = timedelta(days=7)
TOKEN = "s3cret-token"
ALL_KINDS = (
    "equipment", "materials", "lots", "inventory", "work_orders", "operations", "bom",
    "suppliers", "purchase_orders", "quality_results", "downtime", "production_counts",
    "consumption", "maintenance_orders",
)  # fmt: skip


@pytest.fixture
def sql_mes(tmp_path: Path) -> Iterator[SqlMes]:
    """The seeded simulated MES, its clock an hour after the seed's anchor."""
    url = f"sqlite:///{tmp_path / 'mes.db'}"
    seed_mes(url, seed=7)
    mes = SqlMes(url, clock=lambda: NOW)
    try:
        yield mes
    finally:
        mes.close()


@pytest.fixture
def server(sql_mes: SqlMes) -> Iterator[MesRestServer]:
    """The MES REST API on a free loopback port, behind a bearer token."""
    with MesRestServer(create_app(sql_mes, token=TOKEN)) as running:
        yield running


@pytest.fixture
async def rest(server: MesRestServer) -> AsyncIterator[RestMes]:
    """A RestMes client with a small page size, so reads span many pages."""
    async with RestMes(server.url, token=TOKEN, page_size=7, read_timeout=10) as client:
        yield client


async def test_reads_over_rest_equal_the_database_reads_across_pages(
    rest: RestMes, sql_mes: SqlMes, server: MesRestServer
) -> None:
    assert isinstance(rest, MesSource) and isinstance(rest, MesWriter)
    over_http = await rest.fetch(ALL_KINDS, NOW - WEEK, NOW)
    direct = await sql_mes.fetch(ALL_KINDS, NOW - WEEK, NOW)
    assert over_http == direct
    assert len(over_http.lots) > 7, "the seeded lots span several pages of 7"

    calls: list[str] = []

    async def count(request: httpx.Request) -> None:
        calls.append(str(request.url))

    transport = httpx.AsyncHTTPTransport()
    async with RestMes(server.url, token=TOKEN, page_size=5, transport=transport) as small:
        small._http().event_hooks["request"].append(count)
        lots = (await small.fetch(["lots"], NOW - WEEK, NOW)).lots
    assert lots == direct.lots
    assert len(calls) == -(-len(direct.lots) // 5)  # ceil: one request per page
    assert "cursor=5" in calls[1]


async def test_the_page_cap_stops_an_endless_listing(server: MesRestServer) -> None:
    async with RestMes(server.url, token=TOKEN, page_size=1, max_pages=3) as capped:
        with pytest.raises(ConnectorError, match="more than 3 pages of lots"):
            await capped.fetch(["lots"], NOW - WEEK, NOW)


async def test_reads_check_their_arguments(rest: RestMes) -> None:
    with pytest.raises(ConnectorError, match="cannot read \\['recipes'\\]"):
        await rest.fetch(["recipes"], NOW - WEEK, NOW)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="timezone-aware"):
        await rest.fetch(["lots"], NOW.replace(tzinfo=None), NOW)


async def test_holds_over_rest_are_idempotent_refused_when_inconsistent_and_released(
    rest: RestMes,
) -> None:
    lots = (await rest.fetch(["lots"], NOW - WEEK, NOW)).lots
    released = [lot.id for lot in lots if lot.status is LotStatus.RELEASED][:2]
    consumed = [lot.id for lot in lots if lot.status is LotStatus.CONSUMED][:1]
    hold = LotHold(action_id="r-hold-1", lot_ids=tuple(released), reason="burst")
    first, again = await rest.hold_lots(hold), await rest.hold_lots(hold)
    assert (first.already_applied, again.already_applied) == (False, True)
    assert first.reference == again.reference == "HOLD-r-hold-1"
    held = (await rest.fetch(["lots"], NOW - WEEK, NOW)).lots
    assert {lot.id for lot in held if lot.status is LotStatus.HOLD} == set(released)

    with pytest.raises(WriteRejected, match="knows no lot L-NOPE"):
        await rest.hold_lots(LotHold(action_id="r-hold-2", lot_ids=("L-NOPE",), reason="x"))
    with pytest.raises(WriteRejected, match=r"\(409\).*cannot be put on hold"):
        await rest.hold_lots(LotHold(action_id="r-hold-3", lot_ids=tuple(consumed), reason="x"))

    undone = await rest.release_lots(hold, reason="lab cleared them")
    assert not undone.already_applied
    assert (await rest.release_lots(hold, reason="lab cleared them")).already_applied
    with pytest.raises(WriteRejected, match="used before for a different request"):
        await rest.release_lots(hold, reason="another reason under the same key")
    after = (await rest.fetch(["lots"], NOW - WEEK, NOW)).lots
    assert not [lot for lot in after if lot.status is LotStatus.HOLD]


async def test_requisitions_orders_dispatch_lists_and_load_plans_over_rest(rest: RestMes) -> None:
    request = PurchaseRequisition(
        action_id="r-pr-1", material_id="RM-CAP-28", quantity=40_000, unit="pcs",
        supplier="bericap", need_by=NOW + timedelta(days=5),
    )  # fmt: skip
    created = await rest.create_purchase_requisition(request)
    again = await rest.create_purchase_requisition(request)
    assert (created.already_applied, again.already_applied) == (False, True)
    assert created.reference == again.reference
    with pytest.raises(WriteRejected, match="kept in kg"):
        await rest.create_purchase_requisition(
            request.model_copy(update={"action_id": "r-pr-2", "material_id": "RM-CO2"})
        )
    negative = PurchaseRequisition.model_construct(
        **{**request.model_dump(), "action_id": "r-pr-3", "quantity": -5.0}
    )
    with pytest.raises(WriteRejected, match=r"\(422\).*quantity"):
        await rest.create_purchase_requisition(negative)

    order = MaintenanceWorkOrder(
        action_id="r-mwo-1", equipment_id=f"{LINE}.capper", description="replace bearing",
        due_by=NOW + timedelta(days=2),
    )  # fmt: skip
    made = await rest.create_maintenance_order(order)
    assert (await rest.create_maintenance_order(order)).reference == made.reference
    with pytest.raises(WriteRejected, match="knows no equipment"):
        await rest.create_maintenance_order(
            order.model_copy(update={"action_id": "r-mwo-2", "equipment_id": "line9.robot"})
        )

    operations = (await rest.fetch(["operations"], NOW - WEEK, NOW)).operations
    operation = next(op for op in operations if op.status == "planned")
    start = NOW + timedelta(hours=3)
    entry = DispatchEntry(
        work_order_id=operation.work_order_id, operation=operation.sequence,
        equipment_id=operation.equipment_id, start=start, end=start + timedelta(hours=1),
    )  # fmt: skip
    dispatch = DispatchList(action_id="r-dl-1", line_id=LINE, entries=(entry,))
    assert not (await rest.publish_dispatch_list(dispatch)).already_applied
    assert (await rest.publish_dispatch_list(dispatch)).already_applied

    slot = LoadSlot(start=NOW, end=NOW + timedelta(hours=1), energy_kwh=40.0)
    plan = LoadShift(
        action_id="r-lp-1", site_id="site1", plans=(LoadPlan(load="chiller", slots=(slot,)),)
    )
    assert not (await rest.publish_load_plan(plan)).already_applied
    assert (await rest.publish_load_plan(plan)).already_applied


async def test_the_server_holds_clients_to_their_idempotency_keys(server: MesRestServer) -> None:
    hold = LotHold(action_id="r-key-1", lot_ids=("L-NOPE",), reason="x").model_dump(mode="json")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as http:
        missing = await http.post("/actions/lot-holds", json=hold)
        assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["error"]
        wrong = await http.post("/actions/lot-holds", json=hold, headers={"Idempotency-Key": "x"})
        assert wrong.status_code == 400 and "not this action's" in wrong.json()["error"]
        first = await http.post(
            "/actions/lot-holds", json=hold, headers={"Idempotency-Key": "r-key-1"}
        )
        assert first.status_code == 409
        reused = await http.post(
            "/actions/lot-holds",
            json={**hold, "reason": "another reason"},
            headers={"Idempotency-Key": "r-key-1"},
        )
        assert reused.status_code == 422 and "different request" in reused.json()["error"]
        garbage = await http.post(
            "/actions/lot-holds", content=b"{not json", headers={"Idempotency-Key": "k"}
        )
        assert garbage.status_code == 400
        unknown = await http.get("/records/recipes", params={"since": "x", "until": "y"})
        assert unknown.status_code == 404
        naive = await http.get(
            "/records/lots", params={"since": "2025-01-01T00:00:00", "until": NOW.isoformat()}
        )
        assert naive.status_code == 400 and "offset" in naive.json()["error"]


async def test_wrong_or_missing_credentials_are_a_configuration_error(
    server: MesRestServer, sql_mes: SqlMes
) -> None:
    async with RestMes(server.url, token="wrong") as intruder:
        with pytest.raises(ConfigurationError, match=r"refused our credentials.*401"):
            await intruder.fetch(["lots"], NOW - WEEK, NOW)
        with pytest.raises(ConfigurationError, match="refused our credentials"):
            await intruder.hold_lots(LotHold(action_id="r-auth", lot_ids=("L1",), reason="x"))
    async with httpx.AsyncClient(timeout=10) as http:
        bare = await http.get(f"{server.url}/records/lots")
    assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Bearer")

    with MesRestServer(create_app(sql_mes, basic=("mes", "pw"))) as basic:
        async with RestMes(basic.url, username="mes", password="pw") as good:
            assert (await good.fetch(["suppliers"], NOW - WEEK, NOW)).suppliers
        async with RestMes(basic.url, username="mes", password="nope") as bad:
            with pytest.raises(ConfigurationError, match="refused our credentials"):
                await bad.fetch(["suppliers"], NOW - WEEK, NOW)


async def _slow(request: Request) -> Response:
    await asyncio.sleep(1.2)
    return JSONResponse({"items": [], "next": None})


async def _broken(request: Request) -> Response:
    return JSONResponse({"error": "database is down"}, status_code=503)


async def _cursor_pages(request: Request) -> Response:
    """Suppliers in pages of one, told apart by a cursor instead of a next link."""
    names = ["alpla", "bericap", "linde"]
    at = int(request.query_params.get("cursor", "0"))
    more = at + 1 < len(names)
    item = {"id": names[at], "name": names[at].title()}
    return JSONResponse({"items": [item], "cursor": str(at + 1) if more else None})


@pytest.fixture
def odd_server() -> Iterator[MesRestServer]:
    """An MES API that is slow, broken, or pages with cursors."""
    app = Starlette(
        routes=[
            Route("/records/lots", _slow),
            Route("/records/downtime", _broken),
            Route("/actions/lot-holds", _broken, methods=["POST"]),
            Route("/records/suppliers", _cursor_pages),
        ]
    )
    with MesRestServer(app) as running:
        yield running


async def test_timeouts_server_errors_and_unreachable_servers_are_retryable(
    odd_server: MesRestServer,
) -> None:
    async with RestMes(odd_server.url, read_timeout=0.3) as mes:
        started = asyncio.get_running_loop().time()
        with pytest.raises(ConnectorError, match=r"did not answer in time.*ReadTimeout"):
            await mes.fetch(["lots"], NOW - WEEK, NOW)
        assert asyncio.get_running_loop().time() - started < 1.0
        with pytest.raises(ConnectorError, match=r"503: database is down.*retried") as caught:
            await mes.fetch(["downtime"], NOW - WEEK, NOW)
        assert not isinstance(caught.value, WriteRejected)
        with pytest.raises(ConnectorError, match="503") as write_caught:
            await mes.hold_lots(LotHold(action_id="r-5xx", lot_ids=("L1",), reason="x"))
        assert not isinstance(write_caught.value, WriteRejected)
        suppliers = (await mes.fetch(["suppliers"], NOW - WEEK, NOW)).suppliers
        assert [s.id for s in suppliers] == ["alpla", "bericap", "linde"]
    async with RestMes(f"http://127.0.0.1:{free_port()}", connect_timeout=1) as nobody:
        with pytest.raises(ConnectorError, match="could not reach the MES"):
            await nobody.fetch(["lots"], NOW - WEEK, NOW)


def test_bad_client_settings_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="not an HTTP"):
        RestMes("ftp://mes")
    with pytest.raises(ConfigurationError, match="not both"):
        RestMes("http://mes", token="t", username="u", password="p")
    with pytest.raises(ConfigurationError, match="both a username and a password"):
        RestMes("http://mes", username="u")

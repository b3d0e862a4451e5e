"""The SQL MES connector through a mapping file, on a legacy schema with other names and codes,
on SQLite and PostgreSQL: reads equal the reference's, writes land in the legacy tables, and a
mapping that does not fit is refused naming every problem."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import get_args

import pytest
import yaml
from sqlalchemy import create_engine, select

import connectors.mes.mapping as mapping_module
from connectors.mes import SqlMes
from connectors.mes.mapping import (
    FIELDS,
    REFERENCE_MAPPING,
    WRITE_ONLY_FIELDS,
    load_mapping,
    mapping_from_dict,
)
from connectors.mes.records import RECORD_MODELS
from connectors.simulator.mes import seed_mes
from connectors.simulator.mes_data import MES_ANCHOR
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
from factory_agents.isa95 import LotStatus, MesData, MesKind
from factory_agents.site import LINE
from tests.conftest import _postgres_schema_url
from tests.connectors.mes.legacy import (
    LEGACY_KINDS,
    LEGACY_MAPPING,
    T_LOT,
    T_LOT_LOG,
    T_PO,
    build_legacy,
)

NOW = MES_ANCHOR + timedelta(hours=1)
WEEK = timedelta(days=7)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema in a Berlin session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mes.db'}"
    else:
        for url in _postgres_schema_url():
            # a session time zone other than UTC: naive legacy times must still be read as UTC
            yield url + "%20-ctimezone%3DEurope/Berlin"


@pytest.fixture
async def legacy(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[SqlMes, MesData, str]]:
    """The connector on the legacy tables through the mapping file, the reference's records."""
    seed_mes(db_url, seed=7)
    expected = await build_legacy(db_url, NOW)
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(LEGACY_MAPPING, encoding="utf-8")
    mes = SqlMes(db_url, mapping=mapping_file, clock=lambda: NOW)
    try:
        yield mes, expected, db_url
    finally:
        mes.close()


async def test_reads_through_the_mapping_equal_the_reference_reads(
    legacy: tuple[SqlMes, MesData, str],
) -> None:
    mes, expected, _ = legacy
    data = await mes.fetch(LEGACY_KINDS, NOW - WEEK, NOW)
    for kind in LEGACY_KINDS:
        assert getattr(data, kind) == getattr(expected, kind), kind
    assert "L-OTHER-PLANT" not in {lot.id for lot in data.lots}  # the plant filter
    assert {lot.status for lot in data.lots} >= {LotStatus.RELEASED, LotStatus.QUARANTINE}
    assert {e.level for e in data.equipment} == {"site", "area", "line", "cell"}
    assert any(not q.passed for q in data.quality_results) or all(
        q.lsl <= q.value <= q.usl for q in data.quality_results
    )
    assert data.quality_results[0].sampled_at.tzinfo is not None


async def test_holds_through_the_mapping_write_codes_and_log_and_are_idempotent(
    legacy: tuple[SqlMes, MesData, str],
) -> None:
    mes, expected, url = legacy
    released = [lot.id for lot in expected.lots if lot.status is LotStatus.RELEASED][:2]
    hold = LotHold(action_id="m-hold-1", lot_ids=tuple(released), reason="burst")
    assert not (await mes.hold_lots(hold)).already_applied
    assert (await mes.hold_lots(hold)).already_applied
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            codes = dict(
                conn.execute(
                    select(T_LOT.c.LOT_NO, T_LOT.c.STAT).where(T_LOT.c.LOT_NO.in_(released))
                ).all()
            )
            assert set(codes.values()) == {"H"}
            log = conn.execute(select(T_LOT_LOG.c.OLD_STAT, T_LOT_LOG.c.NEW_STAT)).all()
            assert set(log) == {("R", "H")}
        await mes.release_lots(hold, reason="lab cleared them")
        with engine.connect() as conn:
            stat = conn.execute(select(T_LOT.c.STAT).where(T_LOT.c.LOT_NO.in_(released))).all()
            assert {row[0] for row in stat} == {"R"}
    finally:
        engine.dispose()
    consumed = next(lot.id for lot in expected.lots if lot.status is LotStatus.CONSUMED)
    with pytest.raises(WriteRejected, match="cannot be put on hold"):
        await mes.hold_lots(LotHold(action_id="m-hold-2", lot_ids=(consumed,), reason="x"))
    with pytest.raises(WriteRejected, match="knows no lot L-OTHER-PLANT"):
        await mes.hold_lots(LotHold(action_id="m-hold-3", lot_ids=("L-OTHER-PLANT",), reason="x"))


async def test_requisitions_maintenance_and_dispatch_through_the_mapping(
    legacy: tuple[SqlMes, MesData, str],
) -> None:
    mes, expected, url = legacy
    request = PurchaseRequisition(
        action_id="m-pr-1", material_id="RM-CAP-28", quantity=40_000, unit="pcs",
        supplier="bericap", need_by=NOW + timedelta(days=5),
    )  # fmt: skip
    created = await mes.create_purchase_requisition(request)
    assert (await mes.create_purchase_requisition(request)).reference == created.reference
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(T_PO.c.STAT, T_PO.c.PO_TYPE, T_PO.c.EXT_KEY).where(
                    T_PO.c.PO_NO.in_([created.reference])
                )
            ).one()
    finally:
        engine.dispose()
    assert tuple(row) == ("REQ", "NB", "m-pr-1")
    orders = (await mes.fetch(["purchase_orders"], NOW - WEEK, NOW)).purchase_orders
    assert [o.status for o in orders if o.id == created.reference] == ["requested"]
    with pytest.raises(WriteRejected, match="kept in kg"):
        await mes.create_purchase_requisition(
            request.model_copy(update={"action_id": "m-pr-2", "material_id": "RM-CO2"})
        )
    negative = PurchaseRequisition.model_construct(
        **{**request.model_dump(), "action_id": "m-pr-3", "quantity": -5.0}
    )
    with pytest.raises(WriteRejected, match="not a positive number"):
        await mes.create_purchase_requisition(negative)

    order = MaintenanceWorkOrder(
        action_id="m-mwo-1", equipment_id=f"{LINE}.capper", description="replace bearing",
        due_by=NOW + timedelta(days=2),
    )  # fmt: skip
    made = await mes.create_maintenance_order(order)
    assert (await mes.create_maintenance_order(order)).already_applied
    listed = (await mes.fetch(["maintenance_orders"], NOW - WEEK, NOW)).maintenance_orders
    assert [m.id for m in listed] == [made.reference]

    operation = next(op for op in expected.operations if op.status == "planned")
    start = NOW + timedelta(hours=3)
    entry = DispatchEntry(
        work_order_id=operation.work_order_id, operation=operation.sequence,
        equipment_id=operation.equipment_id, start=start, end=start + timedelta(hours=1),
    )  # fmt: skip
    first = await mes.publish_dispatch_list(
        DispatchList(action_id="m-dl-1", line_id=LINE, entries=(entry,))
    )
    assert not first.already_applied
    moved = (await mes.fetch(["operations"], NOW - WEEK, NOW)).operations
    assert [
        op.planned_start
        for op in moved
        if (op.work_order_id, op.sequence) == (operation.work_order_id, operation.sequence)
    ] == [start]


async def test_writes_the_mapping_does_not_cover_are_configuration_errors(
    legacy: tuple[SqlMes, MesData, str],
) -> None:
    mes, _, _ = legacy
    plan = LoadShift(
        action_id="m-lp-1", site_id="site1",
        plans=(LoadPlan(load="chiller", slots=(
            LoadSlot(start=NOW, end=NOW + timedelta(hours=1), energy_kwh=4.0),)),),
    )  # fmt: skip
    with pytest.raises(ConfigurationError, match="does not map load_plans"):
        await mes.publish_load_plan(plan)
    with pytest.raises(ConnectorError, match="cannot read \\['downtime'\\]"):
        await mes.fetch(["downtime"], NOW - WEEK, NOW)


async def test_a_mapping_that_does_not_fit_the_database_lists_every_problem(
    legacy: tuple[SqlMes, MesData, str], tmp_path: Path
) -> None:
    _, _, url = legacy
    data = yaml.safe_load(LEGACY_MAPPING)
    data["kinds"]["lots"]["table"] = "t_lot"  # wrong case
    data["kinds"]["suppliers"]["columns"]["name"] = "NAME2"
    data["kinds"]["materials"]["filter"] = {"WERKS": "P100"}
    data["kinds"]["downtime"] = {
        "table": "T_STOPS",
        "columns": {f: f.upper() for f in (
            "id", "equipment_id", "started_at", "reason_code", "reason", "planned")},
    }  # fmt: skip
    broken = SqlMes(url, mapping=mapping_from_dict(data))
    try:
        with pytest.raises(ConfigurationError) as caught:
            await broken.fetch(["suppliers"], NOW - WEEK, NOW)
    finally:
        broken.close()
    message = str(caught.value)
    for expected in (
        "table 't_lot' does not exist (did you mean 'T_LOT'?",
        "column LFA1.NAME2 does not exist",
        "column MAT.WERKS does not exist",
        "table 'T_STOPS' does not exist",
    ):
        assert expected in message


def test_an_invalid_mapping_file_names_each_mistake(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    data = yaml.safe_load(LEGACY_MAPPING)
    del data["kinds"]["lots"]["columns"]["status"]
    data["kinds"]["lots"]["columns"]["colour"] = "FARBE"
    data["kinds"]["recipes"] = {"table": "R", "columns": {}}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert "lots: required fields ['status'] have no column" in message
    assert "lots: unknown fields ['colour']" in message
    assert "unknown kind 'recipes'" in message
    assert "values given for fields without a column: ['status']" in message
    (tmp_path / "notyaml.yaml").write_text("kinds: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_mapping(tmp_path / "notyaml.yaml")
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_mapping(tmp_path / "absent.yaml")


async def test_an_unknown_code_in_the_mes_is_a_clear_error(
    legacy: tuple[SqlMes, MesData, str],
) -> None:
    mes, _, url = legacy
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(T_LOT.update().where(T_LOT.c.PLANT == "P100").values(STAT="Z"))
    finally:
        engine.dispose()
    with pytest.raises(ConfigurationError, match=r"T_LOT.STAT holds 'Z'.*add it to the mapping"):
        await mes.fetch(["lots"], NOW - WEEK, NOW)


async def test_the_reference_mapping_checks_out_on_the_seeded_schema(db_url: str) -> None:
    seed_mes(db_url, seed=7)
    mes = SqlMes(db_url, mapping=REFERENCE_MAPPING, clock=lambda: NOW)
    try:
        await mes.check()
        data = await mes.fetch(["lots", "bom"], NOW - WEEK, NOW)
        assert data.lots and data.bom
    finally:
        mes.close()


def test_the_documented_example_mapping_is_valid() -> None:
    doc = mapping_module.__doc__ or ""
    block = doc.split("::\n\n", 1)[1].split("\n\nFields by kind", 1)[0]
    mapping = mapping_from_dict(yaml.safe_load(textwrap.dedent(block)))
    lots = mapping.kinds["lots"]
    assert lots.to_isa95("status", "H") == "hold" and lots.to_db("status", "released") == "R"
    assert mapping.schema_name == "mes"
    assert mapping.kinds["purchase_orders"].defaults == {"PO_TYPE": "NB"}


def test_every_kind_agents_read_has_a_record_model_and_fields() -> None:
    kinds = set(get_args(MesKind))
    assert set(RECORD_MODELS) == kinds
    assert kinds <= set(FIELDS)
    for kind, model in RECORD_MODELS.items():
        readable = {f.name for f in FIELDS[kind]} - set(WRITE_ONLY_FIELDS)
        assert readable == set(model.model_fields), kind

"""A "legacy" MES schema for the mapping tests: other table and column names, coded statuses,
naive timestamps, a plant column, and a mapping file that maps it onto ISA-95.

`build_legacy` copies the seeded reference MES (read through SqlMes) into these tables, so a
read through the mapping can be compared record by record with a read of the reference."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    insert,
)

from connectors.mes import SqlMes
from factory_agents.isa95 import MesData

LEGACY_MAPPING = """
version: 1
kinds:
  equipment:
    table: EQUIP
    columns: {id: EQ_ID, name: EQ_NAME, level: EQ_LEVEL, parent_id: PARENT}
    values:
      level: {S: site, A: area, L: line, Z: cell}
  materials:
    table: MAT
    columns: {id: MATNR, name: MAKTX, kind: MTART, unit: MEINS, unit_cost: STPRS, currency: WAERS}
  lots:
    table: T_LOT
    columns:
      id: LOT_NO
      material_id: MATNR
      quantity: QTY
      unit: UOM
      status: STAT
      supplier: LIFNR
      work_order_id: AUFNR
      created_at: CREATED
      expires_at: EXPIRES
    values:
      status: {R: released, Q: quarantine, H: hold, B: blocked, C: consumed}
    filter: {PLANT: P100}
  lot_status_changes:
    table: T_LOT_LOG
    columns:
      lot_id: LOT_NO
      from_status: OLD_STAT
      to_status: NEW_STAT
      external_key: ACTION_ID
      reason: REMARK
      at: CHANGED
    order_by: [LOG_ID]
  suppliers:
    table: LFA1
    columns: {id: LIFNR, name: NAME1}
  work_orders:
    table: AUFK
    columns:
      id: AUFNR
      product_id: MATNR
      line_id: LINE
      quantity: QTY
      quantity_done: QTY_DONE
      priority: PRIO
      status: STAT
      release_at: RELEASED
      due_at: DUE
    values:
      status: {P: planned, F: released, R: running, C: completed, X: closed}
  operations:
    table: AFVC
    columns:
      work_order_id: AUFNR
      sequence: VORNR
      equipment_id: ARBPL
      duration_minutes: DAUER
      setup_minutes: RUEST
      planned_start: START
      planned_end: ENDE
      status: STAT
  purchase_orders:
    table: T_PO
    columns:
      id: PO_NO
      material_id: MATNR
      supplier_id: LIFNR
      quantity: MENGE
      unit: MEINS
      status: STAT
      ordered_at: BEDAT
      expected_at: EINDT
      received_at: WEDAT
      external_key: EXT_KEY
    values:
      status: {REQ: requested, ORD: ordered, REC: received, CAN: cancelled}
    defaults: {PO_TYPE: NB}
  quality_results:
    table: QALS
    columns:
      id: QR_ID
      work_order_id: AUFNR
      lot_id: LOT_NO
      equipment_id: EQ_ID
      characteristic: MERKMAL
      value: MESSWERT
      unit: UNIT
      lsl: LSL
      usl: USL
      passed: OK
      sampled_at: SAMPLED
      comment: REMARK
    values:
      passed: {Y: true, N: false}
  maintenance_orders:
    table: T_MWO
    columns:
      id: MWO_NO
      equipment_id: EQ_ID
      description: TXT
      due_by: DUE
      priority: PRIO
      status: STAT
      created_at: CREATED
      external_key: EXT_KEY
  dispatch_lists:
    table: T_DL
    columns:
      id: DL_NO
      line_id: LINE
      entries: ENTRIES
      status: STAT
      published_at: PUBLISHED
      replaces: REPLACES
      external_key: EXT_KEY
    values:
      status: {A: active, S: superseded}
"""

LEGACY_KINDS = (
    "equipment", "materials", "lots", "suppliers", "work_orders", "operations",
    "purchase_orders", "quality_results", "maintenance_orders",
)  # fmt: skip
"""The kinds the legacy mapping reads."""

metadata = MetaData()


def _t(name: str, *columns: Column[Any]) -> Table:
    return Table(name, metadata, *columns)


def _s(name: str, nullable: bool = True) -> Column[Any]:
    return Column(name, String(100), nullable=nullable)


def _ts(name: str) -> Column[Any]:
    return Column(name, DateTime())  # naive: the legacy MES stores UTC without a zone


EQUIP = _t("EQUIP", _s("EQ_ID"), _s("EQ_NAME"), Column("EQ_LEVEL", String(1)), _s("PARENT"))
MAT = _t(
    "MAT", _s("MATNR"), _s("MAKTX"), _s("MTART"), _s("MEINS"), Column("STPRS", Numeric(12, 4)),
    _s("WAERS"),
)  # fmt: skip
T_LOT = _t(
    "T_LOT", _s("LOT_NO"), _s("MATNR"), Column("QTY", Float), _s("UOM"), Column("STAT", String(1)),
    _s("LIFNR"), _s("AUFNR"), _ts("CREATED"), _ts("EXPIRES"), _s("PLANT", nullable=False),
)  # fmt: skip
T_LOT_LOG = _t(
    "T_LOT_LOG", Column("LOG_ID", Integer, primary_key=True, autoincrement=True), _s("LOT_NO"),
    _s("OLD_STAT"), _s("NEW_STAT"), _s("ACTION_ID"), _s("REMARK"), _ts("CHANGED"),
)  # fmt: skip
LFA1 = _t("LFA1", _s("LIFNR"), _s("NAME1"))
AUFK = _t(
    "AUFK", _s("AUFNR"), _s("MATNR"), _s("LINE"), Column("QTY", Integer),
    Column("QTY_DONE", Integer), Column("PRIO", Integer), Column("STAT", String(1)),
    _ts("RELEASED"), _ts("DUE"),
)  # fmt: skip
AFVC = _t(
    "AFVC", _s("AUFNR"), Column("VORNR", Integer), _s("ARBPL"), Column("DAUER", Float),
    Column("RUEST", Float), _ts("START"), _ts("ENDE"), _s("STAT"),
)  # fmt: skip
T_PO = _t(
    "T_PO", _s("PO_NO"), _s("MATNR"), _s("LIFNR"), Column("MENGE", Float), _s("MEINS"),
    _s("STAT"), _ts("BEDAT"), _ts("EINDT"), _ts("WEDAT"), _s("EXT_KEY"),
    _s("PO_TYPE", nullable=False),
)  # fmt: skip
QALS = _t(
    "QALS", Column("QR_ID", Integer), _s("AUFNR"), _s("LOT_NO"), _s("EQ_ID"), _s("MERKMAL"),
    Column("MESSWERT", Float), _s("UNIT"), Column("LSL", Float), Column("USL", Float),
    Column("OK", String(1)), _ts("SAMPLED"), _s("REMARK"),
)  # fmt: skip
T_MWO = _t(
    "T_MWO", _s("MWO_NO"), _s("EQ_ID"), _s("TXT"), _ts("DUE"), Column("PRIO", Integer),
    _s("STAT"), _ts("CREATED"), _s("EXT_KEY"),
)  # fmt: skip
T_DL = _t(
    "T_DL", _s("DL_NO"), _s("LINE"), Column("ENTRIES", JSON), Column("STAT", String(1)),
    _ts("PUBLISHED"), _s("REPLACES"), _s("EXT_KEY"),
)  # fmt: skip

LEVEL = {"site": "S", "area": "A", "line": "L", "cell": "Z"}
LOT = {"released": "R", "quarantine": "Q", "hold": "H", "blocked": "B", "consumed": "C"}
ORDER = {"planned": "P", "released": "F", "running": "R", "completed": "C", "closed": "X"}
PO = {"requested": "REQ", "ordered": "ORD", "received": "REC", "cancelled": "CAN"}


def _naive(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=None)


async def build_legacy(url: str, now: datetime) -> MesData:
    """Create the legacy tables at `url` (seeded with the reference MES) and copy the data.

    Returns what the reference connector reads, to compare with reads through the mapping.
    Adds one lot of another plant (PLANT P200) that the mapping's filter must hide.
    """
    reference = SqlMes(url, clock=lambda: now)
    try:
        data = await reference.fetch(LEGACY_KINDS, now - timedelta(days=7), now)
    finally:
        reference.close()
    engine = create_engine(url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            _copy(conn, data)
    finally:
        engine.dispose()
    return data


def _copy(conn: Any, data: MesData) -> None:
    """Insert the reference records into the legacy tables, coded the legacy way."""
    conn.execute(insert(EQUIP), [
        {"EQ_ID": e.id, "EQ_NAME": e.name, "EQ_LEVEL": LEVEL[e.level], "PARENT": e.parent_id}
        for e in data.equipment
    ])  # fmt: skip
    conn.execute(insert(MAT), [
        {"MATNR": m.id, "MAKTX": m.name, "MTART": m.kind, "MEINS": m.unit, "STPRS": m.unit_cost,
         "WAERS": m.currency}
        for m in data.materials
    ])  # fmt: skip
    lots = [
        {"LOT_NO": lot.id, "MATNR": lot.material_id, "QTY": lot.quantity, "UOM": lot.unit,
         "STAT": LOT[lot.status], "LIFNR": lot.supplier, "AUFNR": lot.work_order_id,
         "CREATED": _naive(lot.created_at), "EXPIRES": _naive(lot.expires_at), "PLANT": "P100"}
        for lot in data.lots
    ]  # fmt: skip
    other_plant = {**lots[0], "LOT_NO": "L-OTHER-PLANT", "STAT": "R", "PLANT": "P200"}
    conn.execute(insert(T_LOT), [*lots, other_plant])
    conn.execute(insert(LFA1), [{"LIFNR": s.id, "NAME1": s.name} for s in data.suppliers])
    conn.execute(insert(AUFK), [
        {"AUFNR": w.id, "MATNR": w.product_id, "LINE": w.line_id, "QTY": w.quantity,
         "QTY_DONE": w.quantity_done, "PRIO": w.priority, "STAT": ORDER[w.status],
         "RELEASED": _naive(w.release_at), "DUE": _naive(w.due_at)}
        for w in data.work_orders
    ])  # fmt: skip
    conn.execute(insert(AFVC), [
        {"AUFNR": o.work_order_id, "VORNR": o.sequence, "ARBPL": o.equipment_id,
         "DAUER": o.duration_minutes, "RUEST": o.setup_minutes, "START": _naive(o.planned_start),
         "ENDE": _naive(o.planned_end), "STAT": o.status}
        for o in data.operations
    ])  # fmt: skip
    if data.purchase_orders:
        conn.execute(insert(T_PO), [
            {"PO_NO": p.id, "MATNR": p.material_id, "LIFNR": p.supplier_id, "MENGE": p.quantity,
             "MEINS": p.unit, "STAT": PO[p.status], "BEDAT": _naive(p.ordered_at),
             "EINDT": _naive(p.expected_at), "WEDAT": _naive(p.received_at), "PO_TYPE": "NB"}
            for p in data.purchase_orders
        ])  # fmt: skip
    conn.execute(insert(QALS), [
        {"QR_ID": q.id, "AUFNR": q.work_order_id, "LOT_NO": q.lot_id, "EQ_ID": q.equipment_id,
         "MERKMAL": q.characteristic, "MESSWERT": q.value, "UNIT": q.unit, "LSL": q.lsl,
         "USL": q.usl, "OK": "Y" if q.passed else "N", "SAMPLED": _naive(q.sampled_at),
         "REMARK": q.comment}
        for q in data.quality_results
    ])  # fmt: skip

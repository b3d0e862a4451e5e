"""Seed the simulated MES database with plausible ISA-95 data, deterministically from a seed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, create_engine, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from connectors.mes.schema import (
    MES_SCHEMA_VERSION,
    DowntimeEvent,
    Equipment,
    InventoryPosition,
    Lot,
    Material,
    MesBase,
    QualityResult,
    SeedRecord,
    WorkOrder,
)
from connectors.simulator.mes_data import (
    CHARACTERISTICS,
    DOWNTIME_REASONS,
    FINISHED_GOODS,
    INPUT_MATERIALS,
    LINE_RATE_PER_HOUR,
    LOT_STATUSES,
    MES_ANCHOR,
    SITES,
)
from connectors.simulator.mes_routing import bill_of_materials, routings, suppliers
from factory_agents.errors import ConfigurationError, ConnectorError
from factory_agents.site import LINE, MACHINES


def seed_mes(url: str, seed: int, *, anchor: datetime = MES_ANCHOR) -> None:
    """Create the MES tables at `url` and fill them from `seed`; seeding again is a no-op."""
    if anchor.tzinfo is None:
        raise ValueError("the MES anchor time must be timezone-aware (UTC)")
    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ValueError) as err:
        raise ConfigurationError(
            f"cannot use MES database URL {url!r}: {err}. Give a SQLAlchemy URL such as"
            " sqlite:///path/mes.db"
        ) from err
    try:
        _refuse_other_schema(engine, url)
        MesBase.metadata.create_all(engine)
        with Session(engine) as session, session.begin():
            record = session.get(SeedRecord, 1)
            if record is not None:
                if record.seed != seed:
                    raise ConfigurationError(
                        f"the MES database at {url} was seeded with seed {record.seed}, not {seed};"
                        " use a fresh database file or the same seed"
                    )
                return
            _add_in_dependency_order(session, _rows(random.Random(seed), anchor.astimezone(UTC)))
            session.add(
                SeedRecord(id=1, seed=seed, anchor=anchor, schema_version=MES_SCHEMA_VERSION)
            )
    except SQLAlchemyError as err:
        raise ConnectorError(
            f"could not seed the MES database at {url}: {err}. Check that the file or server is"
            " writable and not used by another schema"
        ) from err
    finally:
        engine.dispose()


def _add_in_dependency_order(session: Session, rows: list[MesBase]) -> None:
    """Insert rows table by table, parents first, so foreign-key checking databases accept them."""
    for table in MesBase.metadata.sorted_tables:
        session.add_all(row for row in rows if row.__table__ is table)
        session.flush()


def _refuse_other_schema(engine: Engine, url: str) -> None:
    """Raise ConfigurationError if the database was seeded by another schema version."""
    inspector = inspect(engine)
    if not inspector.has_table(SeedRecord.__tablename__):
        return
    columns = {c["name"] for c in inspector.get_columns(SeedRecord.__tablename__)}
    version = 1
    if "schema_version" in columns:
        with engine.connect() as connection:
            version = connection.scalar(select(SeedRecord.schema_version)) or version
    if version != MES_SCHEMA_VERSION:
        raise ConfigurationError(
            f"the MES database at {url} was made by another simulator version (schema {version},"
            f" this one is {MES_SCHEMA_VERSION}); delete it, and plant-state.json next to it, to"
            " start a fresh simulated plant"
        )


def _rows(rng: random.Random, anchor: datetime) -> list[MesBase]:
    rows: list[MesBase] = []
    rows += _equipment(rng)
    rows += _materials()
    lots = _lots(rng, anchor)
    rows += lots
    rows += _inventory(rng, lots)
    orders = _work_orders(rng, anchor)
    rows += orders
    rows += _quality_results(rng, orders, anchor)
    rows += _downtime(rng, anchor)
    rows += suppliers() + bill_of_materials() + routings(orders)
    return rows


def _equipment(rng: random.Random) -> list[MesBase]:
    city = rng.choice(SITES)
    rows: list[MesBase] = [
        Equipment(id="site1", name=f"{city} bottling plant", level="site", parent_id=None),
        Equipment(id="site1.bottling", name="Bottling hall", level="area", parent_id="site1"),
        Equipment(
            id=LINE,
            name="Line 1 (500 ml PET)",
            level="line",
            parent_id="site1.bottling",
            opcua_path="Line1",
        ),
    ]
    for machine in MACHINES:
        rows.append(
            Equipment(
                id=f"{LINE}.{machine.lower()}",
                name=machine,
                level="cell",
                parent_id=LINE,
                opcua_path=f"Line1.{machine}",
            )
        )
    return rows


def _materials() -> list[MesBase]:
    rows: list[MesBase] = [
        Material(
            id=code,
            name=name,
            kind="finished_good",
            unit="pcs",
            unit_cost=Decimal(cost),
            currency="EUR",
        )
        for code, name, cost in FINISHED_GOODS
    ]
    rows += [
        Material(id=code, name=name, kind=kind, unit=unit, unit_cost=Decimal(cost), currency="EUR")
        for code, name, kind, unit, cost, _supplier in INPUT_MATERIALS
    ]
    return rows


def _lot_status(rng: random.Random) -> str:
    statuses = [status for status, _weight in LOT_STATUSES]
    weights = [weight for _status, weight in LOT_STATUSES]
    return rng.choices(statuses, weights=weights)[0]


def _lots(rng: random.Random, anchor: datetime) -> list[Lot]:
    lots: list[Lot] = []
    number = 0
    for code, _name, kind, unit, _cost, supplier in INPUT_MATERIALS:
        for _ in range(rng.randint(2, 4)):
            number += 1
            received = anchor - timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 23))
            shelf_life = timedelta(days=365 if kind == "packaging" else 180)
            quantity = (
                rng.choice((20_000, 40_000, 60_000)) if unit == "pcs" else rng.randint(2, 20) * 25
            )
            lots.append(
                Lot(
                    id=f"L{received:%y%m%d}-{number:03d}",
                    material_id=code,
                    quantity=float(quantity),
                    unit=unit,
                    status=_lot_status(rng),
                    supplier=supplier,
                    created_at=received,
                    expires_at=received + shelf_life,
                )
            )
    for code, _name, _cost in FINISHED_GOODS:
        for _ in range(rng.randint(1, 2)):
            number += 1
            produced = anchor - timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 23))
            lots.append(
                Lot(
                    id=f"L{produced:%y%m%d}-{number:03d}",
                    material_id=code,
                    quantity=float(rng.choice((6_000, 12_000, 18_000))),
                    unit="pcs",
                    status=rng.choice(("released", "released", "quarantine")),
                    supplier=None,
                    created_at=produced,
                    expires_at=produced + timedelta(days=540),
                )
            )
    return lots


def _inventory(rng: random.Random, lots: list[Lot]) -> list[MesBase]:
    rows: list[MesBase] = []
    for lot in lots:
        if lot.status == "consumed":
            continue
        shares = (1.0,) if rng.random() < 0.5 else (0.6, 0.4)
        for share in shares:
            aisle, rack, level = rng.choice("ABC"), rng.randint(1, 12), rng.randint(1, 6)
            rows.append(
                InventoryPosition(
                    id=len(rows) + 1,
                    material_id=lot.material_id,
                    lot_id=lot.id,
                    location=f"WH-{aisle}-{rack:02d}-{level:02d}",
                    quantity=round(lot.quantity * share, 1),
                    unit=lot.unit,
                    updated_at=lot.created_at + timedelta(hours=rng.randint(1, 48)),
                )
            )
    return rows


def _work_orders(rng: random.Random, anchor: datetime) -> list[WorkOrder]:
    statuses = ["completed"] * 3 + ["running"] + ["released"] * 2
    statuses += ["planned"] * rng.randint(3, 6)
    quantities = [rng.choice((6_000, 12_000, 18_000, 24_000)) for _ in statuses]
    durations = [_minutes(q / LINE_RATE_PER_HOUR + rng.uniform(0.5, 2.0)) for q in quantities]
    running = statuses.index("running")
    progress = rng.uniform(0.2, 0.8)
    starts = [anchor] * len(statuses)
    starts[running] = anchor - _minutes(durations[running].total_seconds() / 3600 * progress)
    for i in range(running - 1, -1, -1):
        starts[i] = starts[i + 1] - durations[i]
    for i in range(running + 1, len(statuses)):
        starts[i] = starts[i - 1] + durations[i - 1]
    orders: list[WorkOrder] = []
    for number, status in enumerate(statuses, start=1):
        i = number - 1
        done = {"completed": quantities[i], "running": int(quantities[i] * progress)}
        orders.append(
            WorkOrder(
                id=f"WO-{24000 + number}",
                product_id=rng.choice(FINISHED_GOODS)[0],
                line_id=LINE,
                quantity=quantities[i],
                quantity_done=done.get(status, 0),
                priority=rng.randint(1, 3),
                status=status,
                release_at=starts[i],
                due_at=starts[i] + durations[i] + timedelta(hours=rng.choice((2, 4, 8))),
            )
        )
    return orders


def _minutes(hours: float) -> timedelta:
    return timedelta(minutes=round(hours * 60))


def _quality_results(
    rng: random.Random, orders: list[WorkOrder], anchor: datetime
) -> list[MesBase]:
    rows: list[MesBase] = []
    for order in orders:
        if order.status not in ("completed", "running"):
            continue
        end = min(order.due_at, anchor)
        span = max((end - order.release_at).total_seconds(), 60.0)
        for _ in range(rng.randint(6, 10)):
            name, unit, lsl, usl, target, sigma, machine = rng.choice(CHARACTERISTICS)
            value = round(rng.gauss(target, sigma * 1.1), 2)
            rows.append(
                QualityResult(
                    id=len(rows) + 1,
                    work_order_id=order.id,
                    lot_id=None,
                    equipment_id=f"{LINE}.{machine.lower()}",
                    characteristic=name,
                    value=value,
                    unit=unit,
                    lsl=lsl,
                    usl=usl,
                    passed=lsl <= value <= usl,
                    sampled_at=order.release_at + timedelta(seconds=int(rng.uniform(0, span))),
                )
            )
    return rows


def _downtime(rng: random.Random, anchor: datetime) -> list[MesBase]:
    rows: list[MesBase] = []
    for number in range(1, rng.randint(8, 14) + 1):
        code, reason, planned, machine = rng.choice(DOWNTIME_REASONS)
        started = anchor - timedelta(minutes=rng.randint(120, 7 * 24 * 60))
        minutes = rng.randint(20, 90) if planned else rng.randint(3, 45)
        rows.append(
            DowntimeEvent(
                id=number,
                equipment_id=f"{LINE}.{machine.lower()}",
                started_at=started,
                ended_at=started + timedelta(minutes=minutes),
                reason_code=code,
                reason=reason,
                planned=planned,
            )
        )
    return rows

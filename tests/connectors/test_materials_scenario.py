"""The shrink-film scenario: the same seed books the same consumption, the MRP reorders at r,
and a requisition is confirmed and delivered as a released lot."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.mes.sql import mes_engine
from connectors.simulator import LineModel
from connectors.simulator.mes import seed_mes
from connectors.simulator.scenarios.materials import MaterialReplenishment
from factory_agents.catalog.supply_chain.reorder_config import FILM_MATERIAL, FILM_SUPPLIER

from .test_scenarios import T0


def drive(tmp_path: Path, name: str, seed: int, rounds: int) -> list[tuple[float, str | None]]:
    """Run the scenario 100 units (10 s) per MES round; the consumption it booked."""
    url = f"sqlite:///{tmp_path / name}"
    seed_mes(url, seed=7, anchor=T0.replace(hour=0))
    engine = mes_engine(url)
    scenario, line = MaterialReplenishment(seed), LineModel(seed)
    with Session(engine) as session:
        for _ in range(rounds):
            made = line.produce(100)
            moments = [T0 + timedelta(seconds=0.1 * u.index) for u in made]
            scenario.step(line, made, moments)
            scenario.mes(session, moments[-1])
            if _ == 5:
                session.add(db.PurchaseOrder(id="PR-9", material_id=FILM_MATERIAL,
                                             supplier_id=FILM_SUPPLIER, quantity=300.0, unit="m",
                                             status="requested", ordered_at=moments[-1],
                                             expected_at=moments[-1], received_at=None,
                                             external_key="a-1"))  # fmt: skip
            session.commit()
        used = session.execute(
            select(db.MaterialConsumption.quantity, db.MaterialConsumption.lot_id)
            .where(db.MaterialConsumption.material_id == FILM_MATERIAL)
            .order_by(db.MaterialConsumption.at, db.MaterialConsumption.id)
        ).all()
        orders = {o.id: o for o in session.scalars(select(db.PurchaseOrder))}
        assert orders["PR-9"].status == "received", "the requisition was confirmed and delivered"
        assert session.get(db.Lot, "FILM-PR-9") is not None
        assert any(k.startswith("PO-FILM-M") for k in orders), "the MRP reordered at r"
    engine.dispose()
    return [(q, lot) for q, lot in used]


def test_the_same_seed_books_the_same_film(tmp_path: Path) -> None:
    a = drive(tmp_path, "a.db", 3, 40)
    b = drive(tmp_path, "b.db", 3, 40)
    c = drive(tmp_path, "c.db", 4, 40)
    assert a == b and a != c
    assert len(a) >= 150 + 40 * 2

"""The labeler: label position checks per lot, a glue-nozzle fault, and QA answering holds.

Finished bottles go into lots of 600 units (a finished-goods lot in the MES, opened when its
first unit is labelled). One unit in five is checked for label position (tolerance ±1.5 mm,
σ 0.7 mm, so about 3 % fail normally). From a seeded unit on, a clogged glue nozzle shifts
labels by +1 mm for three lots (about a quarter fail), then the operator clears it.

When the platform puts lots on hold, QA re-inspects every unit of each held lot: the scenario
knows how many units of that lot really carry a bad label, records them as found and
relabelled (a quality result "label re-inspection" whose value is that count), and releases
the lot. Those are the escapes the hold avoided.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.simulator.address_space import TagSpec
from connectors.simulator.model import LineModel, Unit
from connectors.simulator.scenarios.base import TagWrite
from connectors.simulator.scenarios.production import running_order
from factory_agents.site import (
    LABEL_CHARACTERISTIC,
    LABEL_LSL_MM,
    LABEL_REINSPECTION,
    LABEL_SIGMA_MM,
    LABEL_USL_MM,
    LINE,
)

LOT_UNITS = 600
SAMPLE_EVERY = 5
FAULT_SHIFT_MM = 1.0
FAULT_START_RANGE = (2_400, 3_000)
FAULT_LOTS = 3
LABELER = f"{LINE}.labeler"


class LabelerDefects:
    """Label checks per finished-goods lot, a seeded nozzle fault, and re-inspection of holds."""

    name = "labeler_defects"

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed * 1_000 + 29)
        self.fault_start = self._rng.randint(*FAULT_START_RANGE)
        self.fault_end = self.fault_start + FAULT_LOTS * LOT_UNITS
        self._lot_number = 0
        self._lot_opened_at: datetime | None = None
        self._lot_units = 0
        self.bad_labels: dict[str, int] = {}
        """Units with a bad label per lot: what a full re-inspection would find."""
        self._pending: list[tuple[str, datetime, float]] = []
        self._unwritten: dict[str, tuple[datetime, int, bool]] = {}
        """Lots whose last state the MES has not seen: opened at, units, closed."""

    def tags(self) -> list[TagSpec]:
        """No tags: label checks are MES quality results."""
        return []

    def shift_at(self, index: int) -> float:
        """How far the nozzle fault shifts labels at unit `index` (mm)."""
        return FAULT_SHIFT_MM if self.fault_start <= index < self.fault_end else 0.0

    def step(
        self, line: LineModel, units: Sequence[Unit], moments: Sequence[datetime]
    ) -> list[TagWrite]:
        """Label every good unit, check one in ten, close a lot every 600 units."""
        for unit, moment in zip(units, moments, strict=True):
            if unit.scrap:  # rejected at the filler, never labelled
                continue
            if self._lot_opened_at is None:
                self._lot_number += 1
                self._lot_opened_at = moment
                self._lot_units = 0
            lot = self.current_lot
            self._unwritten[lot] = (self._lot_opened_at, self._lot_units + 1, False)
            position = self._rng.gauss(self.shift_at(unit.index), LABEL_SIGMA_MM)
            if not LABEL_LSL_MM <= position <= LABEL_USL_MM:
                self.bad_labels[lot] = self.bad_labels.get(lot, 0) + 1
            self._lot_units += 1
            if self._lot_units % SAMPLE_EVERY == 0:
                self._pending.append((lot, moment, position))
            if self._lot_units >= LOT_UNITS:
                self._unwritten[lot] = (self._unwritten[lot][0], self._lot_units, True)
                self._lot_opened_at = None
        return []

    @property
    def current_lot(self) -> str:
        """The id of the finished-goods lot being filled."""
        return f"FG-L1-{self._lot_number:05d}"

    def write(self, path: str, value: float) -> bool:
        """No writable tags."""
        return False

    def mes(self, session: Session, now: datetime) -> None:
        """Record lots and label checks, then re-inspect and release lots put on hold."""
        order = running_order(session)
        if order is not None:
            self._record_lots(session, order, now)
            self._record_checks(session, order)
        self._reinspect_holds(session, now)  # QA answers holds whether or not the line runs

    def _record_lots(self, session: Session, order: db.WorkOrder, now: datetime) -> None:
        """Create the lots opened since the last round, and set every changed lot's quantity."""
        for lot_id, (opened_at, units, _closed) in self._unwritten.items():
            lot = session.get(db.Lot, lot_id)
            if lot is None:
                session.add(
                    db.Lot(
                        id=lot_id, material_id=order.product_id, quantity=float(units),
                        unit="pcs", status="released", supplier=None, work_order_id=order.id,
                        created_at=opened_at, expires_at=None,
                    )
                )  # fmt: skip
            else:
                lot.quantity = float(units)
        self._unwritten = {k: v for k, v in self._unwritten.items() if not v[2]}
        session.flush()

    def _record_checks(self, session: Session, order: db.WorkOrder) -> None:
        """One quality result per checked unit."""
        if not self._pending:
            return
        next_id = (session.scalar(select(func.max(db.QualityResult.id))) or 0) + 1
        for offset, (lot_id, at, position) in enumerate(self._pending):
            session.add(
                db.QualityResult(
                    id=next_id + offset, work_order_id=order.id, lot_id=lot_id,
                    equipment_id=LABELER, characteristic=LABEL_CHARACTERISTIC,
                    value=round(position, 3), unit="mm", lsl=LABEL_LSL_MM, usl=LABEL_USL_MM,
                    passed=LABEL_LSL_MM <= position <= LABEL_USL_MM, sampled_at=at,
                )
            )  # fmt: skip
        self._pending.clear()

    def _reinspect_holds(self, session: Session, now: datetime) -> None:
        """Re-inspect every held lot of this line fully, record what was found, release it."""
        held = session.scalars(
            select(db.Lot).where(db.Lot.status == "hold", db.Lot.id.like("FG-L1-%"))
        ).all()
        next_id = (session.scalar(select(func.max(db.QualityResult.id))) or 0) + 1
        for offset, lot in enumerate(held):
            found = self.bad_labels.get(lot.id, 0)
            session.add(
                db.QualityResult(
                    id=next_id + offset, work_order_id=lot.work_order_id or "", lot_id=lot.id,
                    equipment_id=LABELER, characteristic=LABEL_REINSPECTION, value=float(found),
                    unit="pcs", lsl=0.0, usl=0.0, passed=found == 0, sampled_at=now,
                    comment=f"100 % re-inspection of held lot {lot.id}: {found} unit(s) with a"
                    " bad label found and relabelled",
                )
            )  # fmt: skip
            session.add(
                db.LotStatusChange(
                    lot_id=lot.id, from_status="hold", to_status="released", external_key=None,
                    reason=f"QA released it after 100 % re-inspection ({found} relabelled)",
                    at=now,
                )
            )  # fmt: skip
            lot.status = "released"

    def state(self) -> dict[str, Any]:
        """Lot numbering, the bad labels per lot and the random generator."""
        version, internal, gauss_next = self._rng.getstate()
        return {
            "lot_number": self._lot_number,
            "lot_units": self._lot_units,
            "lot_opened_at": self._lot_opened_at.isoformat() if self._lot_opened_at else None,
            "unwritten": {
                lot: [opened.isoformat(), units, closed]
                for lot, (opened, units, closed) in self._unwritten.items()
            },
            "bad_labels": self.bad_labels,
            "rng": [version, list(internal), gauss_next],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Carry on from a saved state."""
        self._lot_number = int(state["lot_number"])
        self._lot_units = int(state["lot_units"])
        opened = state["lot_opened_at"]
        self._lot_opened_at = datetime.fromisoformat(opened) if opened else None
        self.bad_labels = {str(k): int(v) for k, v in state["bad_labels"].items()}
        self._unwritten = {
            lot: (datetime.fromisoformat(opened), int(units), bool(closed))
            for lot, (opened, units, closed) in state.get("unwritten", {}).items()
        }
        version, internal, gauss_next = state["rng"]
        self._rng.setstate((version, tuple(internal), gauss_next))

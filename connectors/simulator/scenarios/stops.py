"""Short stops of the line with their reasons, written to the MES as downtime events.

Two recurring stops, each a hold of the line model (no unit is made while it lasts):

- DT-JAM, a label jam at the labeler infeed: after every 240-420 units made (4-7 minutes of
  running), 40-70 s to clear: about 14 % of the time, the loss that dominates;
- DT-CAPF, the cap feeder running empty: after every 1,500-2,400 units (25-40 minutes of
  running), 60-120 s to refill: about 3 % of the time.

Each stop is an unplanned MES DowntimeEvent on the machine that stopped: written open when it
begins, and given its end once the line runs again. Its times are those of the units around
it (real time, like every other MES record of the running line); the end is placed inside the
gap by the stop's own length, in case another stop held the line longer.

Advice is not answered. Approving an Advice writes nothing to the plant or the MES, and the
simulator does not read the platform's ledger: nobody on the simulated line learns of it, so
the jams go on as before. The agent's realized saving is the change it observes in the jam
rate after the advice, which here is chance alone; it says so, and does not claim a cause.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.simulator.address_space import TagSpec
from connectors.simulator.mes_data import DOWNTIME_REASONS
from connectors.simulator.model import LineModel, Unit
from connectors.simulator.scenarios.base import TagWrite
from factory_agents.site import LINE

MAX_UNWRITTEN = 1_000
"""Stops kept for the MES when none is configured (the oldest are dropped beyond this)."""


@dataclass(frozen=True)
class StopPattern:
    """A recurring stop: its reason, the machine it stops, how often (units) and how long (s)."""

    code: str
    machine: str
    every_units: tuple[int, int]
    seconds: tuple[int, int]
    stream: int

    @property
    def reason(self) -> str:
        """The reason text the MES has for this code."""
        return next(
            text for code, text, _planned, _machine in DOWNTIME_REASONS if code == self.code
        )

    @property
    def equipment_id(self) -> str:
        """The MES equipment the stop is recorded on."""
        return f"{LINE}.{self.machine.lower()}"


LABEL_JAM = StopPattern("DT-JAM", "Labeler", every_units=(240, 420), seconds=(40, 70), stream=41)
CAP_FEEDER_EMPTY = StopPattern(
    "DT-CAPF", "Capper", every_units=(1_500, 2_400), seconds=(60, 120), stream=43
)
PATTERNS = (LABEL_JAM, CAP_FEEDER_EMPTY)


@dataclass
class _OpenStop:
    """A stop under way: the moment and clock second of the last unit before it, its length."""

    at: datetime
    second: int
    seconds: int


@dataclass
class _Plan:
    """The next stop of one pattern: after which unit count, how long, whether the line knows."""

    next_at: int
    seconds: int
    scheduled: bool = False
    open: _OpenStop | None = None


@dataclass
class _Record:
    """A stop for the MES: open (no end yet) or closed; `id` once a row was written."""

    code: str
    reason: str
    equipment_id: str
    started_at: datetime
    ended_at: datetime | None = None
    id: int | None = None


class LineStops:
    """Label jams and an empty cap feeder that hold the line, recorded as MES downtime events."""

    name = "line_stops"

    def __init__(self, seed: int) -> None:
        self._rngs = {p.code: random.Random(seed * 1_000 + p.stream) for p in PATTERNS}
        self._plans = {p.code: self._draw(p, after=0) for p in PATTERNS}
        self._unwritten: list[_Record] = []

    def _draw(self, pattern: StopPattern, after: int) -> _Plan:
        """The pattern's next stop: a seeded number of units after `after`, a seeded length."""
        rng = self._rngs[pattern.code]
        return _Plan(
            next_at=after + rng.randint(*pattern.every_units), seconds=rng.randint(*pattern.seconds)
        )

    def planned(self, code: str) -> tuple[int, int]:
        """The next stop of a reason: after how many units the line stops, and for how long."""
        plan = self._plans[code]
        return plan.next_at, plan.seconds

    def tags(self) -> list[TagSpec]:
        """No tags: the machines' State tags show Held and Suspended."""
        return []

    def step(
        self, line: LineModel, units: Sequence[Unit], moments: Sequence[datetime]
    ) -> list[TagWrite]:
        """Note the stops that began or ended among these units; ask the line for the next."""
        for unit, moment in zip(units, moments, strict=True):
            for pattern in PATTERNS:
                plan = self._plans[pattern.code]
                if plan.open is not None and unit.second > plan.open.second:
                    self._close(pattern, plan.open, unit.second, moment)
                    self._plans[pattern.code] = plan = self._draw(pattern, after=plan.next_at)
                if plan.scheduled and plan.open is None and unit.index + 1 == plan.next_at:
                    plan.open = _OpenStop(moment, unit.second, plan.seconds)
                    self._keep(_Record(pattern.code, pattern.reason, pattern.equipment_id, moment))
        for pattern in PATTERNS:
            plan = self._plans[pattern.code]
            if not plan.scheduled:
                # Late (a restart without this scenario's state): stop at the next unit instead.
                plan.next_at = max(plan.next_at, line.produced + 1)
                line.hold(plan.seconds, after_units=plan.next_at, machine=pattern.machine)
                plan.scheduled = True
        return []

    def _close(self, pattern: StopPattern, stop: _OpenStop, second: int, moment: datetime) -> None:
        """End the open stop: its own length into the gap before the first unit after it."""
        ended = stop.at + (moment - stop.at) * (stop.seconds / (second - stop.second))
        for record in reversed(self._unwritten):
            if record.code == pattern.code and record.ended_at is None:
                record.ended_at = ended
                return
        # The MES has its open row already: close it there.
        self._keep(_Record(pattern.code, pattern.reason, pattern.equipment_id, stop.at, ended))

    def _keep(self, record: _Record) -> None:
        self._unwritten.append(record)
        del self._unwritten[:-MAX_UNWRITTEN]

    def write(self, path: str, value: float) -> bool:
        """No writable tags."""
        return False

    def mes(self, session: Session, now: datetime) -> None:
        """Write new stops (open or closed) and the ends of open ones to the MES."""
        done: list[_Record] = []
        for record in self._unwritten:
            row = self._row(session, record)
            if row is None:
                record.id = (session.scalar(select(func.max(db.DowntimeEvent.id))) or 0) + 1
                session.add(
                    db.DowntimeEvent(
                        id=record.id, equipment_id=record.equipment_id,
                        started_at=record.started_at, ended_at=record.ended_at,
                        reason_code=record.code, reason=record.reason, planned=False,
                    )
                )  # fmt: skip
                session.flush()
            elif record.ended_at is not None and row.ended_at is not None:
                done.append(record)  # written by a round that was committed: forget it
            else:
                row.ended_at = record.ended_at
        self._unwritten = [r for r in self._unwritten if r not in done]

    def _row(self, session: Session, record: _Record) -> db.DowntimeEvent | None:
        """The MES row written for a record, if one was (and was committed)."""
        if record.id is None:
            return self._open_row(session, record)
        row = session.get(db.DowntimeEvent, record.id)
        if row is None or (row.reason_code, row.equipment_id) != (record.code, record.equipment_id):
            return None
        return row

    def _open_row(self, session: Session, record: _Record) -> db.DowntimeEvent | None:
        """The open row of a stop whose record was re-created to close it (after a restart)."""
        if record.ended_at is None:
            return None
        row = session.scalars(
            select(db.DowntimeEvent).where(
                db.DowntimeEvent.reason_code == record.code,
                db.DowntimeEvent.equipment_id == record.equipment_id,
                db.DowntimeEvent.started_at == record.started_at,
            )
        ).first()
        if row is not None:
            record.id = row.id
        return row

    def state(self) -> dict[str, Any]:
        """The plans, the stops under way, those the MES has not seen, the random generators."""
        rngs = {}
        for code, rng in self._rngs.items():
            version, internal, gauss_next = rng.getstate()
            rngs[code] = [version, list(internal), gauss_next]
        return {
            "plans": {
                code: {
                    "next_at": plan.next_at,
                    "seconds": plan.seconds,
                    "scheduled": plan.scheduled,
                    "open": None
                    if plan.open is None
                    else [plan.open.at.isoformat(), plan.open.second, plan.open.seconds],
                }
                for code, plan in self._plans.items()
            },
            "unwritten": [
                [
                    r.code,
                    r.reason,
                    r.equipment_id,
                    r.started_at.isoformat(),
                    r.ended_at.isoformat() if r.ended_at else None,
                    r.id,
                ]
                for r in self._unwritten
            ],
            "rngs": rngs,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Carry on from a saved state."""
        for code, saved in state["plans"].items():
            opened = saved["open"]
            self._plans[code] = _Plan(
                next_at=int(saved["next_at"]),
                seconds=int(saved["seconds"]),
                scheduled=bool(saved["scheduled"]),
                open=None
                if opened is None
                else _OpenStop(datetime.fromisoformat(opened[0]), int(opened[1]), int(opened[2])),
            )
        self._unwritten = [
            _Record(
                code, reason, equipment, datetime.fromisoformat(started),
                datetime.fromisoformat(ended) if ended else None, number,
            )
            for code, reason, equipment, started, ended, number in state["unwritten"]
        ]  # fmt: skip
        for code, (version, internal, gauss_next) in state["rngs"].items():
            self._rngs[code].setstate((version, tuple(internal), gauss_next))

"""The capper's drive-end bearing: outer-race wear, a breakdown, or a job in a planned stop.

The capper carries an IO-Link vibration sensor that computes its features on board from each
5 s of acceleration and publishes them as process data: vibration velocity RMS (mm/s),
kurtosis and crest factor of the acceleration, and the bearing housing's temperature. The
simulator publishes one value of each per window of 5 units made (5 simulated seconds of
running; none while the line stands still), all four stamped with the window's end.

Healthy at first (v-RMS about 1.8 mm/s). From a seeded unit (700-900) the outer race wears:
the defect's severity grows exponentially with the units made, v-RMS = 1.8 mm/s x e^(g n) (n
units since the onset, g = ln(7.1 / 1.8) / 1,700), kurtosis, crest factor and temperature
rising with it. After 1,700 units the noise-free v-RMS reaches 7.1 mm/s and the bearing seizes:
the capper holds the line for a 30-minute repair (an unplanned MES downtime DT-BRG on the
capper), the bearing is replaced, and open maintenance orders for the capper are cancelled.

Planned stops: the plant stops the line for 5 minutes every hour of its clock, the first at
2,400 s. Each is announced in the MES ahead of time as a maintenance order on the line (status
"planned", due by the stop's start, in real time), the way agents find the next planned stop.
In the stop the maintenance crew works every maintenance order open for the capper: the
bearing is replaced (features back to healthy), the orders are completed, and the job is a
planned downtime DT-PM of the capper; the stop itself is a planned downtime DT-PS of the line.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from asyncua import ua
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.simulator.address_space import DEGREE_CELSIUS, EngineeringUnit, TagSpec
from connectors.simulator.model import LINE_NAME, LineModel, Unit
from connectors.simulator.scenarios.base import TagWrite
from factory_agents.site import (
    BEARING_FAILURE_CODE,
    BEARING_FAILURE_RMS_MM_S,
    CAPPER_EQUIPMENT,
    LINE,
    PLANNED_MAINTENANCE_CODE,
    PLANNED_STOP_CODE,
)

MILLIMETRE_PER_SECOND = EngineeringUnit("C16", "mm/s", "millimetre per second")

WINDOW_UNITS = 5
"""Units made per feature window (5 simulated seconds of running)."""
ONSET_RANGE = (700, 900)
"""Unit at which the outer race begins to wear, seeded."""
DEGRADATION_UNITS = 1_700
"""Units from the onset until the bearing seizes."""
HEALTHY_RMS = 1.8
GROWTH_PER_UNIT = math.log(BEARING_FAILURE_RMS_MM_S / HEALTHY_RMS) / DEGRADATION_UNITS
RMS_LOG_SD = 0.04
KURTOSIS = (3.0, 1.5, 0.10)
"""Healthy mean, rise per unit of severity, noise sd."""
CREST = (3.5, 0.6, 0.12)
TEMPERATURE = (41.0, 2.5, 0.3)
REPAIR_SECONDS = 1_800
"""How long the line stands still when the bearing seizes."""
FIRST_STOP_SECOND = 2_400
STOP_PERIOD_SECONDS = 3_600
STOP_SECONDS = 300
OPEN_ORDER = ("open", "planned", "in_progress")
MAX_UNWRITTEN = 1_000
"""MES writes kept when no MES takes them (the oldest are dropped beyond this)."""

VIBRATION_RMS = f"{LINE_NAME}.Capper.VibrationRms"
VIBRATION_KURTOSIS = f"{LINE_NAME}.Capper.VibrationKurtosis"
VIBRATION_CREST = f"{LINE_NAME}.Capper.VibrationCrest"
BEARING_TEMPERATURE = f"{LINE_NAME}.Capper.BearingTemperature"

StopKind = Literal["planned", "failure"]


@dataclass
class _Stop:
    """A stop this scenario began: after which unit (moment, clock second), how long, for what."""

    kind: StopKind
    at: datetime
    second: int
    seconds: int
    order: str | None
    jobs: tuple[str, ...]


class CapperBearing:
    """The capper's vibration features, its bearing's wear and failure, and planned stops."""

    name = "capper_bearing"

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed * 1_000 + 53)
        self.onset = self._rng.randint(*ONSET_RANGE)
        self.replaced = False
        self._in_window = 0
        self._stop: _Stop | None = None
        self._stop_number = 0
        self._next_due: datetime | None = None
        self._last: tuple[int, datetime] | None = None
        self._real_per_second: float | None = None
        self._open_orders: tuple[str, ...] = ()
        self._unwritten: list[dict[str, Any]] = []

    @property
    def failure_index(self) -> int:
        """The unit at which the worn bearing seizes (if nobody replaces it first)."""
        return self.onset + DEGRADATION_UNITS

    def severity(self, index: int) -> float:
        """The defect's severity at unit `index`: 0 healthy, e^(g n) - 1 while wearing."""
        if self.replaced or index < self.onset:
            return 0.0
        return math.exp(GROWTH_PER_UNIT * (index - self.onset)) - 1.0

    def features(self, index: int) -> dict[str, float]:
        """One window's features (tag path → value) at unit `index`, with the sensor's noise."""
        s = self.severity(index)
        gauss = self._rng.gauss
        return {
            VIBRATION_RMS: HEALTHY_RMS * (1 + s) * math.exp(gauss(0.0, RMS_LOG_SD)),
            VIBRATION_KURTOSIS: KURTOSIS[0] + KURTOSIS[1] * s + gauss(0.0, KURTOSIS[2]),
            VIBRATION_CREST: CREST[0] + CREST[1] * s + gauss(0.0, CREST[2]),
            BEARING_TEMPERATURE: TEMPERATURE[0] + TEMPERATURE[1] * s + gauss(0.0, TEMPERATURE[2]),
        }

    @property
    def next_stop_due(self) -> datetime | None:
        """When the next announced planned stop begins (real time), if one is announced."""
        return self._next_due

    def tags(self) -> list[TagSpec]:
        """The sensor's four features, historized."""
        return [
            TagSpec(VIBRATION_RMS, ua.VariantType.Double, HEALTHY_RMS, MILLIMETRE_PER_SECOND,
                    (0.0, 50.0), historized=True),
            TagSpec(VIBRATION_KURTOSIS, ua.VariantType.Double, KURTOSIS[0], None, (0.0, 50.0),
                    historized=True),
            TagSpec(VIBRATION_CREST, ua.VariantType.Double, CREST[0], None, (0.0, 20.0),
                    historized=True),
            TagSpec(BEARING_TEMPERATURE, ua.VariantType.Double, TEMPERATURE[0], DEGREE_CELSIUS,
                    (0.0, 120.0), historized=True),
        ]  # fmt: skip

    def step(
        self, line: LineModel, units: Sequence[Unit], moments: Sequence[datetime]
    ) -> list[TagWrite]:
        """Publish a window per 5 units; end, begin and announce stops; seize when worn out."""
        writes: list[TagWrite] = []
        for unit, moment in zip(units, moments, strict=True):
            self._clock_rate(unit, moment)
            if self._stop is not None and unit.second > self._stop.second:
                self._end_stop(self._stop, unit, moment)
            self._in_window += 1
            if self._in_window == WINDOW_UNITS:
                self._in_window = 0
                writes += [
                    TagWrite(path, value, ua.VariantType.Double, moment)
                    for path, value in self.features(unit.index).items()
                ]
        if units and self._stop is None:
            last, at = units[-1], moments[-1]
            if not self.replaced and last.index >= self.failure_index:
                self._begin(line, "failure", last, at, REPAIR_SECONDS)
            elif self._next_due is not None and at >= self._next_due:
                self._begin(line, "planned", last, at, STOP_SECONDS)
            elif self._next_due is None:
                self._announce(last, at)
        return writes

    def _clock_rate(self, unit: Unit, moment: datetime) -> None:
        """Real seconds per simulated second, from consecutive units (for the MES's times)."""
        if self._last is not None and unit.second > self._last[0]:
            seconds = (moment - self._last[1]).total_seconds() / (unit.second - self._last[0])
            if seconds > 0:
                self._real_per_second = seconds
        self._last = (unit.second, moment)

    def _announce(self, last: Unit, at: datetime) -> None:
        """Put the next planned stop in the MES: the first one due after the line's clock now."""
        if self._real_per_second is None:
            return
        while True:
            self._stop_number += 1
            target = FIRST_STOP_SECOND + (self._stop_number - 1) * STOP_PERIOD_SECONDS
            if target > last.second:
                break
        self._next_due = at + timedelta(seconds=(target - last.second) * self._real_per_second)
        self._keep({"op": "announce", "order": self.stop_order, "due": self._next_due, "at": at})

    @property
    def stop_order(self) -> str:
        """The MES maintenance order of the latest announced planned stop."""
        return f"PS-{LINE_NAME}-{self._stop_number:04d}"

    def _begin(self, line: LineModel, kind: StopKind, last: Unit, at: datetime, s: int) -> None:
        """Hold the line after this unit: a planned stop (working open orders) or a breakdown."""
        line.hold(s, machine="Capper")
        if kind == "planned":
            stop = _Stop(kind, at, last.second, s, self.stop_order, self._open_orders)
            self._next_due = None
        else:
            stop = _Stop(kind, at, last.second, s, None, ())
        self._stop = stop
        self._keep({"op": f"{kind}_began", "stop": _stop_record(stop)})

    def _end_stop(self, stop: _Stop, unit: Unit, moment: datetime) -> None:
        """The line runs again: the stop ended its own length into the gap before this unit."""
        ended = stop.at + (moment - stop.at) * (stop.seconds / (unit.second - stop.second))
        if stop.kind == "failure" or stop.jobs:
            self.replaced = True
        self._stop = None
        self._keep({"op": f"{stop.kind}_ended", "stop": _stop_record(stop), "ended": ended})

    def _keep(self, write: dict[str, Any]) -> None:
        self._unwritten.append(write)
        del self._unwritten[:-MAX_UNWRITTEN]

    def write(self, path: str, value: float) -> bool:
        """No writable tags."""
        return False

    def mes(self, session: Session, now: datetime) -> None:
        """See which capper orders are open; write stops, jobs and announcements to the MES.

        Each write is kept until a later round finds it done (a round whose transaction was
        rolled back is simply done again).
        """
        self._open_orders = tuple(
            session.scalars(
                select(db.MaintenanceOrder.id)
                .where(
                    db.MaintenanceOrder.equipment_id == CAPPER_EQUIPMENT,
                    db.MaintenanceOrder.status.in_(OPEN_ORDER),
                )
                .order_by(db.MaintenanceOrder.id)
            )
        )
        still: list[dict[str, Any]] = []
        for write in self._unwritten:
            if not _done(session, write):
                _apply(session, write, now)
                session.flush()
                still.append(write)
        self._unwritten = still

    def state(self) -> dict[str, Any]:
        """The bearing, the stop under way, the calendar, unwritten MES writes, the generator."""
        version, internal, gauss_next = self._rng.getstate()
        return {
            "onset": self.onset,
            "replaced": self.replaced,
            "in_window": self._in_window,
            "stop": None if self._stop is None else _to_json(_stop_record(self._stop)),
            "stop_number": self._stop_number,
            "next_due": _iso(self._next_due),
            "last": None if self._last is None else [self._last[0], self._last[1].isoformat()],
            "real_per_second": self._real_per_second,
            "open_orders": list(self._open_orders),
            "unwritten": [_to_json(w) for w in self._unwritten],
            "rng": [version, list(internal), gauss_next],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Carry on from a saved state."""
        self.onset = int(state["onset"])
        self.replaced = bool(state["replaced"])
        self._in_window = int(state["in_window"])
        self._stop = None if state["stop"] is None else _stop_from(_from_json(state["stop"]))
        self._stop_number = int(state["stop_number"])
        self._next_due = _from_iso(state["next_due"])
        last = state["last"]
        self._last = None if last is None else (int(last[0]), datetime.fromisoformat(last[1]))
        self._real_per_second = state["real_per_second"]
        self._open_orders = tuple(state["open_orders"])
        self._unwritten = [_from_json(w) for w in state["unwritten"]]
        version, internal, gauss_next = state["rng"]
        self._rng.setstate((version, tuple(internal), gauss_next))


def _stop_record(stop: _Stop) -> dict[str, Any]:
    record = asdict(stop)
    record["jobs"] = list(stop.jobs)
    return record


def _stop_from(record: dict[str, Any]) -> _Stop:
    return _Stop(
        kind=record["kind"],
        at=record["at"],
        second=int(record["second"]),
        seconds=int(record["seconds"]),
        order=record["order"],
        jobs=tuple(record["jobs"]),
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _from_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _to_json(value: Any) -> Any:
    """A write with its datetimes as ISO strings."""
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: Any) -> Any:
    """The inverse of _to_json."""
    if isinstance(value, dict):
        if set(value) == {"$t"}:
            return datetime.fromisoformat(value["$t"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _stop_event(
    session: Session, equipment: str, code: str, at: datetime
) -> db.DowntimeEvent | None:
    """The downtime event of one stop, found by its equipment, reason and start."""
    return session.scalars(
        select(db.DowntimeEvent).where(
            db.DowntimeEvent.equipment_id == equipment,
            db.DowntimeEvent.reason_code == code,
            db.DowntimeEvent.started_at == at,
        )
    ).first()


def _done(session: Session, write: dict[str, Any]) -> bool:
    """Whether the MES already shows this write (committed in an earlier round)."""
    op = write["op"]
    if op == "announce":
        return session.get(db.MaintenanceOrder, write["order"]) is not None
    stop = write["stop"]
    if op == "planned_began":
        return _stop_event(session, LINE, PLANNED_STOP_CODE, stop["at"]) is not None
    if op == "failure_began":
        return _stop_event(session, CAPPER_EQUIPMENT, BEARING_FAILURE_CODE, stop["at"]) is not None
    if op == "planned_ended":
        event = _stop_event(session, LINE, PLANNED_STOP_CODE, stop["at"])
        return event is not None and event.ended_at is not None
    event = _stop_event(session, CAPPER_EQUIPMENT, BEARING_FAILURE_CODE, stop["at"])
    return event is not None and event.ended_at is not None


def _apply(session: Session, write: dict[str, Any], now: datetime) -> None:
    """Make one write in the MES (idempotent together with _done)."""
    op = write["op"]
    if op == "announce":
        session.add(
            db.MaintenanceOrder(
                id=write["order"], equipment_id=LINE,
                description=f"Planned stop of {LINE}: {STOP_SECONDS // 60}-minute maintenance"
                " window (the crew works the open maintenance orders of the line's machines)",
                due_by=write["due"], priority=3, status="planned", created_at=write["at"],
                external_key=None,
            )
        )  # fmt: skip
        return
    stop = write["stop"]
    if op == "planned_began":
        _add_event(session, LINE, stop["at"], None, PLANNED_STOP_CODE,
                   f"Planned stop {stop['order']}: maintenance window", planned=True)  # fmt: skip
        _set_status(session, [stop["order"]], "in_progress")
        _set_status(session, stop["jobs"], "in_progress")
    elif op == "planned_ended":
        _close_event(session, LINE, PLANNED_STOP_CODE, stop, write["ended"])
        _set_status(session, [stop["order"]], "completed")
        if (
            stop["jobs"]
            and _stop_event(session, CAPPER_EQUIPMENT, PLANNED_MAINTENANCE_CODE, stop["at"]) is None
        ):
            _add_event(session, CAPPER_EQUIPMENT, stop["at"], write["ended"],
                       PLANNED_MAINTENANCE_CODE,
                       f"Planned maintenance in stop {stop['order']}: {', '.join(stop['jobs'])}"
                       " done, drive-end bearing replaced", planned=True)  # fmt: skip
        _set_status(session, stop["jobs"], "completed")
    elif op == "failure_began":
        _add_event(session, CAPPER_EQUIPMENT, stop["at"], None, BEARING_FAILURE_CODE,
                   "Capper drive-end bearing seized (outer race): repaired, bearing replaced",
                   planned=False)  # fmt: skip
    else:  # failure_ended: the repair replaced the bearing, open orders for it are moot
        _close_event(session, CAPPER_EQUIPMENT, BEARING_FAILURE_CODE, stop, write["ended"])
        open_orders = session.scalars(
            select(db.MaintenanceOrder).where(
                db.MaintenanceOrder.equipment_id == CAPPER_EQUIPMENT,
                db.MaintenanceOrder.status.in_(OPEN_ORDER),
                db.MaintenanceOrder.created_at <= write["ended"],
            )
        )
        for order in open_orders:
            order.status = "cancelled"


def _add_event(
    session: Session,
    equipment: str,
    started: datetime,
    ended: datetime | None,
    code: str,
    reason: str,
    *,
    planned: bool,
) -> None:
    number = (session.scalar(select(func.max(db.DowntimeEvent.id))) or 0) + 1
    session.add(
        db.DowntimeEvent(
            id=number, equipment_id=equipment, started_at=started, ended_at=ended,
            reason_code=code, reason=reason, planned=planned,
        )
    )  # fmt: skip
    session.flush()


def _close_event(
    session: Session, equipment: str, code: str, stop: dict[str, Any], ended: datetime
) -> None:
    event = _stop_event(session, equipment, code, stop["at"])
    if event is None:  # its opening was lost: record the whole stop now
        reason = "Capper drive-end bearing seized (outer race): repaired, bearing replaced"
        if code == PLANNED_STOP_CODE:
            reason = f"Planned stop {stop['order']}: maintenance window"
        _add_event(session, equipment, stop["at"], ended, code, reason,
                   planned=code != BEARING_FAILURE_CODE)  # fmt: skip
    else:
        event.ended_at = ended


def _set_status(session: Session, orders: Sequence[str], status: str) -> None:
    for order_id in orders:
        order = session.get(db.MaintenanceOrder, order_id)
        if order is not None:
            order.status = status

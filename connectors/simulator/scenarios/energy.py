"""The site's energy: a main meter, and utility loads that may run whenever is cheapest in time.

The site meter (Line1.SiteEnergy, cumulative kWh, historized) counts the line's machines (their
Energy tags), the site's own utilities (about 150 kW, a slow swing of ±10 kW) and three
deferrable loads, each with its own controller object and sub-meter (see
factory_agents/catalog/energy/load_requests.py for the tags):

    compressed-air receiver recharge  about 2.0 kWh at up to 160 kW  (Line1.AirReceiver)
    chiller pre-cooling               about 3.0 kWh at up to 200 kW  (Line1.Chiller)
    CIP tank heating                  about 4.5 kWh at up to 300 kW  (Line1.CipTank)

Each controller also draws 0.5 kW on standby, counted on its sub-meter (so every meter moves,
and is historized, every second). Everything runs in real time, like the platform's time
stamps: kW are real-time kW as the meters see them (the line's machines draw their simulated
power times the simulator's speed), slots are real minutes. Every four minutes the three
controllers announce a batch of requests, 90 s ahead (the first batch at once, starting at the
first whole minute at least 30 s after the plant starts), each with the batch's earliest start,
a deadline two minutes later and a seeded energy (±10 %). Without a plan a load runs as is:
at full power from its earliest start until done. Once the platform publishes a load plan (the
MES's load_plans), each load whose request the active plan covers draws each slot's planned
energy evenly over the slot, at full power only when that is the only way left to meet its
deadline.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncua import ua
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.simulator.address_space import KILOWATT_HOUR, EngineeringUnit, TagSpec
from connectors.simulator.model import LINE_NAME, LineModel, Unit
from connectors.simulator.scenarios.base import TagWrite
from factory_agents.actions import LoadPlan
from factory_agents.catalog.energy.load_requests import (
    DEADLINE,
    EARLIEST_START,
    ENERGY,
    ENERGY_REQUEST,
    MAX_POWER,
    PLANNED,
    POWER,
    to_epoch,
)
from factory_agents.site import DEFERRABLE_LOADS

SITE_METER = f"{LINE_NAME}.SiteEnergy"
SITE_ID = "site1"
KILOWATT = EngineeringUnit("KWT", "kW", "kilowatt")
SECOND = EngineeringUnit("SEC", "s", "second (since 1970-01-01 UTC)")

UTILITIES_KW = 150.0
STANDBY_KW = 0.5
"""What each load's controller, pumps and fans draw when the load is idle (on its sub-meter)."""
UTILITIES_SWING_KW = 10.0
UTILITIES_PERIOD = timedelta(minutes=7)
SLOT = timedelta(minutes=1)
FIRST_LEAD = timedelta(seconds=30)
ANNOUNCE_LEAD = timedelta(seconds=90)
BATCH_EVERY = timedelta(minutes=4)
WINDOW = timedelta(minutes=2)
PUBLISH_EVERY = timedelta(seconds=1)
ENERGY_SPREAD = 0.10
EPSILON_KWH = 1e-9


@dataclass(frozen=True)
class LoadSpec:
    """One deferrable load: its name, its controller's object, mean energy and full power."""

    name: str
    path: str
    energy_kwh: float
    max_power_kw: float


def _load(name: str, energy_kwh: float, max_power_kw: float) -> LoadSpec:
    return LoadSpec(name, DEFERRABLE_LOADS[name], energy_kwh, max_power_kw)


LOADS = (
    _load("compressed-air receiver recharge", 2.0, 160.0),
    _load("chiller pre-cooling", 3.0, 200.0),
    _load("CIP tank heating", 4.5, 300.0),
)


@dataclass
class Request:
    """A load's open request: how much, how fast, from when, by when, and what it has drawn."""

    energy_kwh: float
    max_power_kw: float
    earliest: datetime
    deadline: datetime
    delivered_kwh: float = 0.0

    @property
    def remaining_kwh(self) -> float:
        """Energy still to draw."""
        return max(0.0, self.energy_kwh - self.delivered_kwh)


PlanSlots = list[tuple[datetime, datetime, float]]


class SiteEnergy:
    """The site meter, the utilities, and the deferrable loads answering published load plans."""

    name = "site_energy"

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed * 1_000 + 41)
        self._lock = threading.Lock()
        self._clock: datetime | None = None
        self._first_earliest: datetime | None = None
        self._batches = 0
        self.requests: dict[str, Request | None] = dict.fromkeys(DEFERRABLE_LOADS)
        self.metered_kwh: dict[str, float] = dict.fromkeys(DEFERRABLE_LOADS, 0.0)
        self.utilities_kwh = 0.0
        self._line_kwh = 0.0
        self._plan_id: str | None = None
        self._plan: dict[str, PlanSlots] = {}
        self._pending: list[list[TagWrite]] = []
        self._last_publish: datetime | None = None

    def tags(self) -> list[TagSpec]:
        """The site meter, and each load's request, sub-meter, power and plan status."""
        double = ua.VariantType.Double
        tags = [TagSpec(SITE_METER, double, 0.0, KILOWATT_HOUR, historized=True)]
        for spec in LOADS:
            p = spec.path
            tags += [
                TagSpec(f"{p}.{ENERGY}", double, 0.0, KILOWATT_HOUR, historized=True),
                TagSpec(f"{p}.{POWER}", double, 0.0, KILOWATT, (0.0, spec.max_power_kw)),
                TagSpec(f"{p}.{ENERGY_REQUEST}", double, 0.0, KILOWATT_HOUR),
                TagSpec(f"{p}.{MAX_POWER}", double, spec.max_power_kw, KILOWATT),
                TagSpec(f"{p}.{EARLIEST_START}", double, 0.0, SECOND),
                TagSpec(f"{p}.{DEADLINE}", double, 0.0, SECOND),
                TagSpec(f"{p}.{PLANNED}", ua.VariantType.Boolean, False),
            ]
        return tags

    @property
    def clock(self) -> datetime | None:
        """The moment the site's energy has been run up to."""
        return self._clock

    def site_kwh(self) -> float:
        """The site meter: machines, utilities and deferrable loads."""
        return self._line_kwh + self.utilities_kwh + sum(self.metered_kwh.values())

    def step(
        self, line: LineModel, units: Sequence[Unit], moments: Sequence[datetime]
    ) -> list[TagWrite]:
        """Run the site's energy up to the last unit's moment; publish at most once a second."""
        line_kwh = sum(machine.energy_kwh for machine in line.machines())
        with self._lock:
            self._line_kwh = line_kwh
            if moments:
                self.advance(moments[-1])
            clock = self._clock
            if clock is None:
                return []
            writes = [w for snapshot in self._pending for w in snapshot]
            self._pending.clear()
            if self._last_publish is None or clock - self._last_publish >= PUBLISH_EVERY:
                writes += self._snapshot(clock)
                self._last_publish = clock
            return writes

    def write(self, path: str, value: float) -> bool:
        """No writable tags: plans come through the MES."""
        return False

    def mes(self, session: Session, now: datetime) -> None:
        """Take the site's active load plan from the MES, and run the energy up to now."""
        record = session.scalars(
            select(db.LoadPlanRecord)
            .where(db.LoadPlanRecord.site_id == SITE_ID, db.LoadPlanRecord.status == "active")
            .order_by(db.LoadPlanRecord.published_at.desc())
        ).first()
        with self._lock:
            if record is None:
                self._plan_id, self._plan = None, {}
            elif record.id != self._plan_id:
                self._plan_id, self._plan = record.id, _plan_slots(record.plans)
            self.advance(now)

    def advance(self, to: datetime) -> None:
        """Run the utilities and the loads up to `to` (callers hold the lock)."""
        if self._clock is None:
            self._clock = to
            self._first_earliest = _ceil(to + FIRST_LEAD, SLOT)
            self._announce_due(to)
            return
        while self._clock < to:
            t = self._clock
            self._announce_due(t)
            later = min(to, self._next_change(t))
            hours = (later - t).total_seconds() / 3600
            for spec in LOADS:
                request = self.requests[spec.name]
                power = self.power(spec.name, t)
                if request is not None and power > 0:
                    kwh = min(power * hours, request.remaining_kwh)
                    request.delivered_kwh += kwh
                    self.metered_kwh[spec.name] += kwh
                self.metered_kwh[spec.name] += STANDBY_KW * hours
            self.utilities_kwh += _utilities_kw(t + (later - t) / 2) * hours
            self._clock = later
            self._close_finished(later)
            if later == _floor(later, SLOT):
                self._pending.append(self._snapshot(later))

    def power(self, name: str, at: datetime) -> float:
        """What load `name` draws at `at`: nothing, full power as is, or its plan's power."""
        request = self.requests[name]
        if request is None or not request.earliest <= at < request.deadline:
            return 0.0
        if request.remaining_kwh <= EPSILON_KWH:
            return 0.0
        slots = self.plan_for(name)
        if not slots:
            return request.max_power_kw
        to_come = sum(kwh * _share_left(start, end, at) for start, end, kwh in slots)
        if request.remaining_kwh > to_come + 1e-6:
            return request.max_power_kw  # the plan cannot meet the deadline any more
        for start, end, kwh in slots:
            if start <= at < end:
                return min(request.max_power_kw, kwh / ((end - start).total_seconds() / 3600))
        return 0.0

    def plan_for(self, name: str) -> PlanSlots:
        """The active plan's slots for the load's open request (empty: it runs as is)."""
        request = self.requests[name]
        if request is None:
            return []
        return [
            (start, end, kwh)
            for start, end, kwh in self._plan.get(name, [])
            if request.earliest <= start and end <= request.deadline
        ]

    def _announce_due(self, at: datetime) -> None:
        """Announce every batch of requests due by `at`."""
        assert self._first_earliest is not None
        while True:
            earliest = self._first_earliest + self._batches * BATCH_EVERY
            if earliest - ANNOUNCE_LEAD > at and self._batches > 0:
                return
            for spec in LOADS:
                kwh = spec.energy_kwh * self._rng.uniform(1 - ENERGY_SPREAD, 1 + ENERGY_SPREAD)
                self.requests[spec.name] = Request(
                    energy_kwh=round(kwh, 2),
                    max_power_kw=spec.max_power_kw,
                    earliest=earliest,
                    deadline=earliest + WINDOW,
                )
            self._batches += 1

    def _next_change(self, t: datetime) -> datetime:
        """The next moment a load's power may change: a slot, a window or a plan boundary."""
        moments = [_floor(t, SLOT) + SLOT]
        assert self._first_earliest is not None
        moments.append(self._first_earliest + self._batches * BATCH_EVERY - ANNOUNCE_LEAD)
        for name, request in self.requests.items():
            if request is not None:
                moments += [request.earliest, request.deadline]
                moments += [m for start, end, _kwh in self.plan_for(name) for m in (start, end)]
        return min(m for m in moments if m > t)

    def _close_finished(self, at: datetime) -> None:
        """Clear the requests that are done or past their deadline."""
        for name, request in self.requests.items():
            if request is not None and (
                request.remaining_kwh <= EPSILON_KWH or at >= request.deadline
            ):
                self.requests[name] = None

    def _snapshot(self, at: datetime) -> list[TagWrite]:
        """Every tag's value now, stamped `at`."""
        double = ua.VariantType.Double
        writes = [TagWrite(SITE_METER, self.site_kwh(), double, at)]
        for spec in LOADS:
            request = self.requests[spec.name]
            p = spec.path
            writes += [
                TagWrite(f"{p}.{ENERGY}", self.metered_kwh[spec.name], double, at),
                TagWrite(f"{p}.{POWER}", self.power(spec.name, at) + STANDBY_KW, double, at),
                TagWrite(f"{p}.{MAX_POWER}", spec.max_power_kw, double, at),
                TagWrite(
                    f"{p}.{ENERGY_REQUEST}", request.energy_kwh if request else 0.0, double, at
                ),
                TagWrite(
                    f"{p}.{EARLIEST_START}",
                    to_epoch(request.earliest) if request else 0.0,
                    double,
                    at,
                ),
                TagWrite(
                    f"{p}.{DEADLINE}", to_epoch(request.deadline) if request else 0.0, double, at
                ),
                TagWrite(
                    f"{p}.{PLANNED}", bool(self.plan_for(spec.name)), ua.VariantType.Boolean, at
                ),
            ]
        return writes

    def state(self) -> dict[str, Any]:
        """Meters, open requests, batch count, the plan followed and the random generator."""
        with self._lock:
            version, internal, gauss_next = self._rng.getstate()
            return {
                "clock": _iso(self._clock),
                "first_earliest": _iso(self._first_earliest),
                "batches": self._batches,
                "metered_kwh": dict(self.metered_kwh),
                "utilities_kwh": self.utilities_kwh,
                "requests": {name: _request_state(r) for name, r in self.requests.items()},
                "plan_id": self._plan_id,
                "plan": {
                    name: [[_iso(s), _iso(e), kwh] for s, e, kwh in slots]
                    for name, slots in self._plan.items()
                },
                "rng": [version, list(internal), gauss_next],
            }

    def restore(self, state: dict[str, Any]) -> None:
        """Carry on from a saved state."""
        with self._lock:
            self._clock = _moment(state["clock"])
            self._first_earliest = _moment(state["first_earliest"])
            self._batches = int(state["batches"])
            self.metered_kwh = {k: float(v) for k, v in state["metered_kwh"].items()}
            self.utilities_kwh = float(state["utilities_kwh"])
            self.requests = {
                name: None
                if r is None
                else Request(float(r[0]), float(r[1]), _at(r[2]), _at(r[3]), float(r[4]))
                for name, r in state["requests"].items()
            }
            self._plan_id = state["plan_id"]
            self._plan = {
                name: [(_at(s), _at(e), float(kwh)) for s, e, kwh in slots]
                for name, slots in state["plan"].items()
            }
            version, internal, gauss_next = state["rng"]
            self._rng.setstate((version, tuple(internal), gauss_next))


def _request_state(request: Request | None) -> list[Any] | None:
    """A request as JSON-able data."""
    if request is None:
        return None
    r = request
    return [r.energy_kwh, r.max_power_kw, _iso(r.earliest), _iso(r.deadline), r.delivered_kwh]


def _plan_slots(plans: list[Any]) -> dict[str, PlanSlots]:
    """The slots of each load in a load plan as the MES keeps it."""
    out: dict[str, PlanSlots] = {}
    for raw in plans:
        plan = LoadPlan.model_validate(raw)
        out[plan.load] = [(s.start, s.end, s.energy_kwh) for s in plan.slots]
    return out


def _utilities_kw(at: datetime) -> float:
    """The utilities' demand: 150 kW with a slow ±10 kW swing (wall-clock, deterministic)."""
    period = UTILITIES_PERIOD.total_seconds()
    return UTILITIES_KW + UTILITIES_SWING_KW * math.sin(
        2 * math.pi * (at.timestamp() % period) / period
    )


def _share_left(start: datetime, end: datetime, at: datetime) -> float:
    """How much of the slot [start, end) lies after `at` (0 to 1)."""
    if at >= end:
        return 0.0
    if at <= start:
        return 1.0
    return (end - at) / (end - start)


def _floor(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // step) * step


def _ceil(moment: datetime, step: timedelta) -> datetime:
    floor = _floor(moment, step)
    return floor if floor == moment else floor + step


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)

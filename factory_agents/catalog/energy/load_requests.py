"""How a deferrable load's controller announces its request on OPC UA, and reading it back.

Each load's controller (the compressor's, the CIP skid's, the chiller's PLC) knows how much
energy it needs before when: it publishes, under its object (e.g. ``Line1.Chiller``):

    EnergyRequest  kWh the open request needs (0: no open request)
    MaxPower       kW the load draws at full power
    EarliestStart  when the load may start, seconds since 1970-01-01 UTC (0: no request)
    Deadline       when it must be done, seconds since 1970-01-01 UTC (0: no request)
    Planned        True while it follows a published load plan for this request
    Energy         its sub-meter, cumulative kWh (historized)
    Power          what it draws now, kW

Without a plan the controller starts at its earliest start and runs at full power until done
(the "as is" behaviour); with a plan for its request it draws each slot's planned energy evenly
over the slot, and runs at full power whenever that is the only way left to meet its deadline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from factory_agents.plant import Sample
from factory_agents.screening import is_fresh

ENERGY_REQUEST = "EnergyRequest"
MAX_POWER = "MaxPower"
EARLIEST_START = "EarliestStart"
DEADLINE = "Deadline"
PLANNED = "Planned"
ENERGY = "Energy"
POWER = "Power"
REQUEST_TAGS = (ENERGY_REQUEST, MAX_POWER, EARLIEST_START, DEADLINE, PLANNED)
"""The tags read to know a load's open request."""


def tag(controller: str, name: str) -> str:
    """The tag `name` of a load's controller, e.g. tag('ns=2;s=Line1.Chiller', 'Energy')."""
    return f"{controller}.{name}"


def to_epoch(moment: datetime) -> float:
    """A moment as the controllers publish it: seconds since 1970-01-01 UTC."""
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    """A controller's time stamp (seconds since 1970-01-01 UTC) as an aware datetime."""
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class LoadRequest:
    """One load's open request as its controller announced it."""

    name: str
    energy_kwh: float
    max_power_kw: float
    earliest_start: datetime
    deadline: datetime
    planned: bool


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Why a load's request could not be read: a reason key and a sentence."""

    reason: str
    message: str


def read_request(
    name: str,
    controller: str,
    current: Mapping[str, Sample],
    now: datetime,
    stale_after: timedelta,
) -> LoadRequest | Unreadable | None:
    """The load's open request, None when it has none, or why its tags cannot be trusted."""
    values: dict[str, float] = {}
    for field in REQUEST_TAGS:
        sample = current.get(tag(controller, field))
        if sample is None or not is_fresh(sample, now, stale_after):
            return Unreadable(
                "stale_request",
                f"{name}: {tag(controller, field)} is missing, not Good or older than"
                f" {stale_after.total_seconds():g} s",
            )
        if not math.isfinite(sample.value):
            return Unreadable("bad_request", f"{name}: {field} is not a finite number")
        values[field] = sample.value
    if values[ENERGY_REQUEST] <= 0:
        return None
    earliest, deadline = values[EARLIEST_START], values[DEADLINE]
    if values[MAX_POWER] <= 0 or earliest <= 0 or deadline <= earliest:
        return Unreadable(
            "bad_request",
            f"{name}: a request of {values[ENERGY_REQUEST]:g} kWh needs a max power > 0 and an"
            f" earliest start before its deadline (got {values[MAX_POWER]:g} kW,"
            f" {earliest:g} s, {deadline:g} s)",
        )
    return LoadRequest(
        name=name,
        energy_kwh=values[ENERGY_REQUEST],
        max_power_kw=values[MAX_POWER],
        earliest_start=from_epoch(earliest),
        deadline=from_epoch(deadline),
        planned=values[PLANNED] >= 0.5,
    )

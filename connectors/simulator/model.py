"""A deterministic process model of one bottling line: fill weights, drift, counters, machines.

Pure Python: no clocks, no I/O, no global randomness. One unit is produced per simulated
second; the same seed (and the same setpoint changes at the same units) always gives the
same sequence of units.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from factory_agents.site import FILL_LSL_G, FILL_SIGMA_G, FILL_TARGET_G, FILL_USL_G, MACHINES

LINE_NAME = "Line1"
SECONDS_PER_UNIT = 1.0
NOMINAL_SPEED_UNITS_PER_MIN = 60.0 / SECONDS_PER_UNIT
EXECUTE = "Execute"

DRIFT_START_RANGE = (300, 500)
DRIFT_RAMP_UNITS = 60
DRIFT_AMPLITUDE_G = 2.0

# Electrical power drawn while running (kW) and temperature baseline (deg C) per machine.
_POWER_KW = {"Filler": 7.5, "Capper": 3.0, "Labeler": 2.2}
_BASE_TEMPERATURE_C = {"Filler": 24.0, "Capper": 38.0, "Labeler": 46.0}
_TEMPERATURE_AMPLITUDE_C = 1.5
_TEMPERATURE_PERIOD_S = 1800.0


@dataclass(frozen=True)
class Unit:
    """One bottle as it left the filler: its index, measured fill weight and scrap verdict."""

    index: int
    fill_weight: float
    scrap: bool


@dataclass
class MachineStatus:
    """What one machine reports: PackML-like state, speed, temperature, energy and counters."""

    name: str
    state: str
    speed: float
    temperature: float
    energy_kwh: float
    good: int
    scrap: int


class LineModel:
    """Line1 with its Filler, Capper and Labeler; the filler's valve slips at a seeded unit."""

    def __init__(self, seed: int, setpoint: float = FILL_TARGET_G) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self.drift_start = self._rng.randint(*DRIFT_START_RANGE)
        self._temperature_phase = {name: self._rng.uniform(0.0, 2 * math.pi) for name in MACHINES}
        self._setpoint = _finite(setpoint)
        self._produced = 0
        self._good = 0
        self._scrap = 0
        self._energy_kwh = dict.fromkeys(MACHINES, 0.0)

    @property
    def setpoint(self) -> float:
        """The filler's fill weight setpoint in grams."""
        return self._setpoint

    def set_setpoint(self, value: float) -> None:
        """Move the filler's mean fill weight to `value` grams from the next unit on."""
        self._setpoint = _finite(value)

    def drift_at(self, index: int) -> float:
        """The valve slip's offset in grams at unit `index`: 0, then a 60-unit ramp, then +2 g."""
        if index < self.drift_start:
            return 0.0
        ramped = (index - self.drift_start + 1) / DRIFT_RAMP_UNITS
        return DRIFT_AMPLITUDE_G * min(1.0, ramped)

    def produce(self, n: int) -> list[Unit]:
        """Produce the next `n` units (one per simulated second) and update every counter."""
        if n < 0:
            raise ValueError(f"cannot produce a negative number of units ({n})")
        units = [self._produce_one() for _ in range(n)]
        for name in MACHINES:
            self._energy_kwh[name] += _POWER_KW[name] * n * SECONDS_PER_UNIT / 3600.0
        return units

    def _produce_one(self) -> Unit:
        index = self._produced
        noise = self._rng.gauss(0.0, FILL_SIGMA_G)
        weight = self._setpoint + self.drift_at(index) + noise
        scrap = not FILL_LSL_G <= weight <= FILL_USL_G
        self._produced += 1
        if scrap:
            self._scrap += 1
        else:
            self._good += 1
        return Unit(index=index, fill_weight=weight, scrap=scrap)

    @property
    def produced(self) -> int:
        """Units produced so far (good and scrap)."""
        return self._produced

    @property
    def good(self) -> int:
        """The line's good count: units the filler passed."""
        return self._good

    @property
    def scrap(self) -> int:
        """The line's scrap count: the filler's rejects."""
        return self._scrap

    @property
    def simulated_seconds(self) -> float:
        """Simulated time elapsed since the start, in seconds."""
        return self._produced * SECONDS_PER_UNIT

    def temperature(self, machine: str) -> float:
        """A machine's temperature in deg C: a slow, deterministic wander around its baseline."""
        angle = 2 * math.pi * self.simulated_seconds / _TEMPERATURE_PERIOD_S
        wander = _TEMPERATURE_AMPLITUDE_C * math.sin(angle + self._temperature_phase[machine])
        return _BASE_TEMPERATURE_C[machine] + wander

    def machine(self, name: str) -> MachineStatus:
        """The current status of one machine (Filler, Capper or Labeler)."""
        if name not in MACHINES:
            raise KeyError(f"unknown machine {name!r}; the line has {', '.join(MACHINES)}")
        # Rejects leave the line at the filler: downstream machines only see good units.
        scrap = self._scrap if name == "Filler" else 0
        return MachineStatus(
            name=name,
            state=EXECUTE,
            speed=NOMINAL_SPEED_UNITS_PER_MIN,
            temperature=self.temperature(name),
            energy_kwh=self._energy_kwh[name],
            good=self._good,
            scrap=scrap,
        )

    def machines(self) -> list[MachineStatus]:
        """The status of every machine, in line order."""
        return [self.machine(name) for name in MACHINES]


def _finite(value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"setpoint must be a finite number of grams; got {value!r}")
    return number

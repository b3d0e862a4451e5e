"""A deterministic process model of one bottling line: fill weights, drift, counters, machines.

Pure Python: no clocks, no I/O, no global randomness. One unit is produced per simulated
second; the same seed (and the same setpoint changes at the same units) always gives the
same sequence of units.

The line can be held: a scenario asks for a stop of so many simulated seconds once the line
has made so many units (`hold`), and `run` lets simulated time pass, making no unit while the
line is held. The machine that stopped reports Held, the others Suspended (starved or blocked).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from connectors.simulator.state import LineState
from factory_agents.site import FILL_LSL_G, FILL_SIGMA_G, FILL_TARGET_G, FILL_USL_G, MACHINES

LINE_NAME = "Line1"
SECONDS_PER_UNIT = 1.0
NOMINAL_SPEED_UNITS_PER_MIN = 60.0 / SECONDS_PER_UNIT
EXECUTE = "Execute"
HELD = "Held"
SUSPENDED = "Suspended"

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
    """One bottle as it left the filler: its index, fill weight, scrap verdict, and when.

    `second` is the line's simulated clock (seconds since it started) when the unit was made:
    consecutive units are one second apart, more when the line was held between them.
    """

    index: int
    fill_weight: float
    scrap: bool
    second: int


@dataclass(frozen=True)
class Hold:
    """A stop of the line: once `after_units` units are made, none for `seconds` seconds."""

    after_units: int
    seconds: int
    machine: str


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
        self._clock = 0
        self._pending: list[Hold] = []
        self._hold_left = 0
        self._held_by: str | None = None

    @classmethod
    def resume(cls, state: LineState) -> LineModel:
        """The line exactly as it was when `state` was taken: it goes on with the same units."""
        model = cls(state.seed, setpoint=state.setpoint)
        version, internal, gauss_next = state.rng_state
        model._rng.setstate((version, internal, gauss_next))
        model._produced, model._good, model._scrap = state.produced, state.good, state.scrap
        model._energy_kwh = {name: state.energy_kwh.get(name, 0.0) for name in MACHINES}
        model._clock = state.produced if state.clock is None else state.clock
        model._pending = [Hold(after, seconds, machine) for after, seconds, machine in state.holds]
        if state.held is not None:
            model._hold_left, model._held_by = state.held
        return model

    def snapshot(self) -> LineState:
        """The line's state now, to save and resume from after a restart."""
        version, internal, gauss_next = self._rng.getstate()
        return LineState(
            seed=self.seed,
            produced=self._produced,
            good=self._good,
            scrap=self._scrap,
            setpoint=self._setpoint,
            energy_kwh=dict(self._energy_kwh),
            rng_state=(version, internal, gauss_next),
            clock=self._clock,
            holds=tuple((h.after_units, h.seconds, h.machine) for h in self._pending),
            held=(self._hold_left, self._held_by) if self._held_by is not None else None,
        )

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
        """Produce the next `n` units (one per simulated second), holds or not; count them."""
        if n < 0:
            raise ValueError(f"cannot produce a negative number of units ({n})")
        units = [self._produce_one() for _ in range(n)]
        self._draw_power(n)
        return units

    def hold(self, seconds: int, *, after_units: int | None = None, machine: str) -> Hold:
        """Stop the line for `seconds` once `after_units` units are made (None: now).

        `machine` is the one that stopped (it reports Held). Holds that meet overlap: the line
        restarts when the longest is over.
        """
        if seconds < 1 or seconds != int(seconds):
            raise ValueError(f"a hold lasts a whole number of seconds, at least 1; got {seconds}")
        if machine not in MACHINES:
            raise KeyError(f"unknown machine {machine!r}; the line has {', '.join(MACHINES)}")
        hold = Hold(self._produced if after_units is None else after_units, int(seconds), machine)
        self._pending.append(hold)
        return hold

    def run(self, seconds: int) -> list[Unit]:
        """Let `seconds` simulated seconds pass: one unit each second, none while held."""
        if seconds < 0:
            raise ValueError(f"cannot run a negative number of seconds ({seconds})")
        units: list[Unit] = []
        for _ in range(seconds):
            self._start_due_holds()
            if self._hold_left > 0:
                self._hold_left -= 1
                if self._hold_left == 0:
                    self._held_by = None
                self._clock += 1
            else:
                units.append(self._produce_one())
        self._draw_power(len(units))
        return units

    @property
    def held(self) -> bool:
        """True while the line is stopped (or stops before its next unit)."""
        return self._hold_left > 0 or any(h.after_units <= self._produced for h in self._pending)

    @property
    def clock(self) -> int:
        """Simulated seconds since the line started, running or held."""
        return self._clock

    def _start_due_holds(self) -> None:
        """Start the holds whose unit count is reached."""
        due = [h for h in self._pending if h.after_units <= self._produced]
        if not due:
            return
        self._pending = [h for h in self._pending if h.after_units > self._produced]
        for hold in due:
            if hold.seconds > self._hold_left:
                self._hold_left, self._held_by = hold.seconds, hold.machine

    def _draw_power(self, units: int) -> None:
        for name in MACHINES:
            self._energy_kwh[name] += _POWER_KW[name] * units * SECONDS_PER_UNIT / 3600.0

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
        unit = Unit(index=index, fill_weight=weight, scrap=scrap, second=self._clock)
        self._clock += 1
        return unit

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
        """Simulated time elapsed since the start, in seconds (running or held)."""
        return self._clock * SECONDS_PER_UNIT

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
        state = EXECUTE
        if self._hold_left > 0:
            state = HELD if name == self._held_by else SUSPENDED
        return MachineStatus(
            name=name,
            state=state,
            speed=0.0 if state != EXECUTE else NOMINAL_SPEED_UNITS_PER_MIN,
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

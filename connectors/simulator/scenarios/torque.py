"""The capper's torque: a worn clutch adds torque, so caps sit off-centre in their tolerance.

Every unit is capped with torque = setpoint + clutch bias + noise (σ 0.08 N·m). From a seeded
unit on, the bias ramps to +0.22 N·m: the spread stays capable (Cp ≈ 1.7) but the process sits
off-centre (Cpk ≈ 0.75, about 1 % of caps out of their 1.2–2.0 N·m tolerance, reworked).
Lowering the setpoint by the bias re-centres it; the rework counter shows the difference.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from asyncua import ua
from sqlalchemy.orm import Session

from connectors.simulator.address_space import NEWTON_METRE, TagSpec
from connectors.simulator.model import LINE_NAME, LineModel, Unit
from connectors.simulator.scenarios.base import TagWrite
from factory_agents.site import TORQUE_LSL, TORQUE_SIGMA, TORQUE_TARGET, TORQUE_USL

BIAS = 0.22
"""N·m the worn clutch adds once fully worn."""
WEAR_START_RANGE = (700, 1000)
WEAR_RAMP_UNITS = 120
TORQUE = f"{LINE_NAME}.Capper.Torque"
TORQUE_SETPOINT = f"{LINE_NAME}.Capper.TorqueSetpoint"
REWORK = f"{LINE_NAME}.Capper.ReworkCount"


class CapperTorque:
    """Torque per cap, its setpoint, and the caps reworked for being out of tolerance."""

    name = "capper_torque"

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed * 1_000 + 17)
        self.wear_start = self._rng.randint(*WEAR_START_RANGE)
        self.setpoint = TORQUE_TARGET
        self.reworked = 0

    def bias_at(self, index: int) -> float:
        """The clutch's added torque at unit `index`: 0, then a ramp, then +0.22 N·m."""
        if index < self.wear_start:
            return 0.0
        return BIAS * min(1.0, (index - self.wear_start + 1) / WEAR_RAMP_UNITS)

    def tags(self) -> list[TagSpec]:
        """Torque (historized), its writable setpoint, the rework counter."""
        return [
            TagSpec(
                TORQUE, ua.VariantType.Double, TORQUE_TARGET, NEWTON_METRE, (0.0, 4.0),
                historized=True,
            ),
            TagSpec(
                TORQUE_SETPOINT, ua.VariantType.Double, TORQUE_TARGET, NEWTON_METRE, (1.0, 2.2),
                historized=True, writable=True,
            ),
            TagSpec(REWORK, ua.VariantType.Int64, 0, historized=True),
        ]  # fmt: skip

    def step(
        self, line: LineModel, units: Sequence[Unit], moments: Sequence[datetime]
    ) -> list[TagWrite]:
        """Cap every unit; publish each torque, then the setpoint and the rework counter."""
        writes: list[TagWrite] = []
        for unit, moment in zip(units, moments, strict=True):
            torque = self.setpoint + self.bias_at(unit.index) + self._rng.gauss(0.0, TORQUE_SIGMA)
            if not TORQUE_LSL <= torque <= TORQUE_USL:
                self.reworked += 1
            writes.append(TagWrite(TORQUE, torque, ua.VariantType.Double, moment))
        if moments:
            last = moments[-1]
            writes.append(TagWrite(TORQUE_SETPOINT, self.setpoint, ua.VariantType.Double, last))
            writes.append(TagWrite(REWORK, self.reworked, ua.VariantType.Int64, last))
        return writes

    def write(self, path: str, value: float) -> bool:
        """Move the torque setpoint (a finite number of N·m) from the next cap on."""
        if path != TORQUE_SETPOINT or not math.isfinite(value):
            return False
        self.setpoint = float(value)
        return True

    def mes(self, session: Session, now: datetime) -> None:
        """No MES events: torque rework is counted on the capper."""

    def state(self) -> dict[str, Any]:
        """Setpoint, rework count and the random generator."""
        version, internal, gauss_next = self._rng.getstate()
        return {
            "setpoint": self.setpoint,
            "reworked": self.reworked,
            "rng": [version, list(internal), gauss_next],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Carry on from a saved state."""
        self.setpoint = float(state["setpoint"])
        self.reworked = int(state["reworked"])
        version, internal, gauss_next = state["rng"]
        self._rng.setstate((version, tuple(internal), gauss_next))

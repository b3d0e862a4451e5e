"""What a simulator scenario is: extra tags, a response to each unit made, MES events, state.

A scenario makes one agent's situation happen on the simulated line, deterministically for a
seed: a worn capping clutch for the capability agent, a glue-nozzle fault for the defect-burst
agent, production and consumption in the MES for everyone who reads it. It answers the
actions the platform takes (a setpoint written, a lot held) as the real plant would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from asyncua import ua
from sqlalchemy.orm import Session

from connectors.simulator.address_space import TagSpec
from connectors.simulator.model import LineModel, Unit


@dataclass(frozen=True)
class TagWrite:
    """A value a scenario publishes on one of its tags, stamped with the moment it happened."""

    path: str
    value: float | int | str
    variant: ua.VariantType
    at: datetime


class Scenario(Protocol):
    """One agent's situation on the simulated line."""

    name: str

    def tags(self) -> list[TagSpec]:
        """The OPC UA variables the scenario adds (paths under Line1)."""
        ...

    def step(
        self, line: LineModel, units: Sequence[Unit], moments: Sequence[datetime]
    ) -> list[TagWrite]:
        """React to the units just made (one moment each); the tag values to publish."""
        ...

    def write(self, path: str, value: float) -> bool:
        """Take a client's write to one of the scenario's writable tags; False if not its tag."""
        ...

    def mes(self, session: Session, now: datetime) -> None:
        """Write the MES events due now, and answer the platform's MES actions."""
        ...

    def state(self) -> dict[str, Any]:
        """What to save so the scenario carries on after a restart (JSON-able)."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Carry on from a saved state."""
        ...

"""The situations the simulated line lives through, one per agent that watches it."""

from __future__ import annotations

from connectors.simulator.scenarios.base import Scenario, TagWrite
from connectors.simulator.scenarios.bearing import CapperBearing
from connectors.simulator.scenarios.breakdown import ToolRoomBreakdown
from connectors.simulator.scenarios.energy import SiteEnergy
from connectors.simulator.scenarios.labels import LabelerDefects
from connectors.simulator.scenarios.materials import MaterialReplenishment
from connectors.simulator.scenarios.multipack import MultipackShortage
from connectors.simulator.scenarios.production import LineProduction
from connectors.simulator.scenarios.runner import Scenarios
from connectors.simulator.scenarios.stops import LineStops
from connectors.simulator.scenarios.toolroom import ToolRoom
from connectors.simulator.scenarios.torque import CapperTorque

__all__ = ["Scenario", "Scenarios", "TagWrite", "default_scenarios", "optional_scenarios"]


def default_scenarios(seed: int) -> list[Scenario]:
    """Every scenario of the default site, seeded: production first, it opens work orders."""
    return [
        LineProduction(seed),
        CapperTorque(seed),
        LabelerDefects(seed),
        LineStops(seed),
        SiteEnergy(seed),
        CapperBearing(seed),
        ToolRoom(seed),
        MaterialReplenishment(seed),
        MultipackShortage(seed),
    ]


def optional_scenarios(seed: int) -> list[Scenario]:
    """Scenarios the default site does not run; a simulator runs them when it names them."""
    return [ToolRoomBreakdown(seed)]

"""A simulated bottling plant: a deterministic line model served over OPC UA, plus an MES."""

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.mes import seed_mes
from connectors.simulator.model import LineModel, Unit
from connectors.simulator.server import PlantSimulator, serve

__all__ = ["LineModel", "PlantSimulator", "SimulatorConfig", "Unit", "seed_mes", "serve"]

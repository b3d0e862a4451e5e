"""Helpers of the language-layer tests: the clock, static tags, the plant handle."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from connectors.opcua.connector import OpcUaConnector
from connectors.simulator.mes_data import MES_ANCHOR
from factory_agents.plant import Quality, Sample

NOW = MES_ANCHOR
"""The tests' clock: the simulated MES is seeded around this moment."""
SETPOINT = 500.0
GOOD = 1200.0
SCRAP = 36.0


@dataclass
class StaticTags:
    """A tag source with fixed values and one straight history per tag (an in-memory PLC)."""

    values: dict[str, float]
    reads: list[list[str]] = field(default_factory=list)

    async def read(self, node_ids: Sequence[str]) -> list[Sample]:
        """The fixed values; unknown tags read Bad."""
        self.reads.append(list(node_ids))
        return [
            Sample(
                tag=tag,
                value=self.values.get(tag, math.nan),
                source_time=NOW,
                quality=Quality.GOOD if tag in self.values else Quality.BAD,
            )
            for tag in node_ids
        ]

    async def history(self, node_id: str, start: datetime, end: datetime) -> list[Sample]:
        """Ten samples rising by 1 per minute up to the current value."""
        last = self.values.get(node_id, 0.0)
        return [
            Sample(tag=node_id, value=last - 9 + i, source_time=end - timedelta(minutes=9 - i))
            for i in range(10)
        ]


@dataclass
class Plant:
    """A running simulated plant: its endpoint and MES, and a connector to it."""

    endpoint: str
    mes_url: str
    home: Path
    connector: OpcUaConnector

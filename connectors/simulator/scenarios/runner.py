"""Runs the simulator's scenarios: their tags, each batch of units, client writes, MES events."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from connectors.mes.sql import mes_engine
from connectors.simulator.address_space import TagSpec
from connectors.simulator.model import LineModel, Unit
from connectors.simulator.scenarios.base import Scenario, TagWrite

logger = logging.getLogger(__name__)


class Scenarios:
    """The scenarios of one simulated plant, and the MES database they write to (if any)."""

    def __init__(self, scenarios: Sequence[Scenario], mes_url: str | None) -> None:
        self.scenarios = list(scenarios)
        self._mes_url = mes_url
        self._engine: Engine | None = None

    def tags(self) -> list[TagSpec]:
        """Every scenario's tags."""
        return [tag for scenario in self.scenarios for tag in scenario.tags()]

    def writable(self) -> list[str]:
        """Paths of the scenario tags clients may write."""
        return [tag.path for tag in self.tags() if tag.writable]

    def step(
        self, line: LineModel, units: Sequence[Unit], moments: Sequence[datetime]
    ) -> list[TagWrite]:
        """Every scenario's reaction to the units just made."""
        return [w for scenario in self.scenarios for w in scenario.step(line, units, moments)]

    def write(self, path: str, value: float) -> bool:
        """Give a client's write to the scenario owning the tag; False if none took it."""
        return any(scenario.write(path, value) for scenario in self.scenarios)

    def mes(self, now: datetime) -> None:
        """Write every scenario's MES events in one transaction (blocking: run it in a thread)."""
        if self._mes_url is None:
            return
        if self._engine is None:
            self._engine = mes_engine(self._mes_url)
        try:
            with Session(self._engine) as session, session.begin():
                for scenario in self.scenarios:
                    scenario.mes(session, now)
        except SQLAlchemyError:
            # The MES was busy (the platform writing): the events wait for the next round.
            logger.warning("simulated MES events not written this round", exc_info=True)

    def state(self) -> dict[str, dict[str, Any]]:
        """Each scenario's state, by name."""
        return {scenario.name: scenario.state() for scenario in self.scenarios}

    def restore(self, states: dict[str, dict[str, Any]]) -> None:
        """Carry each scenario on from its saved state, where one was saved."""
        for scenario in self.scenarios:
            if scenario.name in states:
                scenario.restore(states[scenario.name])

    def close(self) -> None:
        """Close the MES connections."""
        if self._engine is not None:
            self._engine.dispose()

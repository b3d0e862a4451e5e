"""The ports activities use to reach the plant, in the platform's own types.

A connector for another system (an MQTT broker, a historian, a vendor API) satisfies these
protocols structurally; no base class is needed.

Example (a source an integrator ships in their own package)::

    class HistorianSource:
        async def read(self, node_ids: Sequence[str]) -> list[Sample]:
            return [Sample(tag=node_id, value=..., source_time=...) for node_id in node_ids]

        async def history(self, node_id: str, start: datetime, end: datetime) -> list[Sample]:
            return [...]

    assert isinstance(HistorianSource(), TagSource)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, field_validator

from factory_agents.agent import SetpointChange
from factory_agents.plant import Sample


class WriteResult(BaseModel):
    """The outcome of a guarded setpoint write: value before, value written, value read back."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    before: float
    written: float
    read_back: float
    already_applied: bool
    at: datetime

    @field_validator("at")
    @classmethod
    def _must_be_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("at must be timezone-aware (UTC); got a naive datetime")
        return value


@runtime_checkable
class TagSource(Protocol):
    """Reads current values and raw history of tags, as Samples with quality and source time."""

    async def read(self, node_ids: Sequence[str]) -> list[Sample]:
        """One Sample per node id, in the same order."""
        ...

    async def history(self, node_id: str, start: datetime, end: datetime) -> list[Sample]:
        """The raw values of one tag between start and end, sorted by source time."""
        ...


@runtime_checkable
class TagWriter(Protocol):
    """Writes allow-listed setpoints, guarded, idempotent and verified by reading back."""

    async def write_setpoint(self, change: SetpointChange) -> WriteResult:
        """Apply `change` (or report it as already applied) and return what was read back."""
        ...

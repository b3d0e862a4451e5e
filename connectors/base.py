"""The ports activities use to reach the plant and the MES, in the platform's own types.

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

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, field_validator

from factory_agents.actions import (
    DispatchList,
    LoadShift,
    LotHold,
    MaintenanceWorkOrder,
    PurchaseRequisition,
    SetpointChange,
)
from factory_agents.isa95 import MesData, MesKind
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


SAME_VALUE_TOLERANCE = 1e-6
"""Setpoint values closer than this are the same (a write of it is already applied)."""


def same_setpoint(a: float, b: float) -> bool:
    """Whether two setpoint values are the same, within SAME_VALUE_TOLERANCE."""
    return math.isclose(a, b, rel_tol=0.0, abs_tol=SAME_VALUE_TOLERANCE)


def write_result(
    node_id: str, before: float, written: float, read_back: float, *, already_applied: bool
) -> WriteResult:
    """What a guarded setpoint write reports, stamped now."""
    return WriteResult(
        node_id=node_id,
        before=before,
        written=float(written),
        read_back=read_back,
        already_applied=already_applied,
        at=datetime.now(UTC),
    )


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

    async def write_setpoint(
        self, change: SetpointChange, *, last_write_at: datetime | None = None
    ) -> WriteResult:
        """Apply `change` (or report it as already applied) and return what was read back.

        `last_write_at` is when the platform last changed this node: the connector refuses a
        write sooner than the allow-list's minimum interval after it.
        """
        ...


class MesWriteResult(BaseModel):
    """What the MES did with an action: the document it created or changed, and when."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    reference: str
    already_applied: bool
    summary: str
    at: datetime

    @field_validator("at")
    @classmethod
    def _must_be_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("at must be timezone-aware (UTC); got a naive datetime")
        return value


@runtime_checkable
class MesSource(Protocol):
    """Reads ISA-95 records from an MES: master data as it is now, events since a time."""

    async def fetch(self, kinds: Sequence[MesKind], since: datetime, until: datetime) -> MesData:
        """The records of `kinds`; time-stamped ones (results, stops, counts) in [since, until]."""
        ...


@runtime_checkable
class MesWriter(Protocol):
    """Writes the agents' MES actions, each idempotent on its action id and checked first.

    Every method refuses inconsistent requests (unknown lot or material, a status change the
    MES does not allow, a unit that does not match) with a clear error and changes nothing;
    called again with the same action id it reports the first result as already applied.
    """

    async def hold_lots(self, action: LotHold) -> MesWriteResult:
        """Put the lots on hold."""
        ...

    async def release_lots(self, action: LotHold, reason: str) -> MesWriteResult:
        """Undo a hold this action placed: the lots go back to the status they had."""
        ...

    async def create_purchase_requisition(self, action: PurchaseRequisition) -> MesWriteResult:
        """Create a purchase requisition."""
        ...

    async def publish_dispatch_list(self, action: DispatchList) -> MesWriteResult:
        """Publish a dispatch list for a line, superseding the one in force."""
        ...

    async def create_maintenance_order(self, action: MaintenanceWorkOrder) -> MesWriteResult:
        """Create a maintenance work order."""
        ...

    async def publish_load_plan(self, action: LoadShift) -> MesWriteResult:
        """Publish when deferrable loads run, superseding the plan in force."""
        ...

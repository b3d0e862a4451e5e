"""What an agent may propose to do: one frozen model per action kind, told apart by `kind`.

The set is closed on purpose: every kind has an executor with its own guardrails, premise
check and read-back, so an integrator's agent proposes one of these, never free-form writes.
Every action carries an `action_id`, the key that makes executing it idempotent, and names
its `subject` (the node, lot, material or equipment it touches): the platform keeps at most
one open proposal per subject.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Name = Annotated[str, Field(min_length=1, max_length=200)]
"""A node, lot, material, supplier, machine, line, site or load: an id or short name."""
Unit = Annotated[str, Field(min_length=1, max_length=20)]
"""An engineering unit, e.g. g, kg, pcs, N·m."""
Text = Annotated[str, Field(min_length=1, max_length=4000)]
"""Words for people, stored with the action: a reason, a description, a summary."""


class _Action(BaseModel):
    """Fields every action has."""

    model_config = ConfigDict(frozen=True)

    action_id: str = Field(min_length=1, max_length=64)


class SetpointChange(_Action):
    """Write one allow-listed setpoint; `from_value` is the live value the proposal was based on."""

    kind: Literal["setpoint_change"] = "setpoint_change"
    node_id: Name
    from_value: float
    to_value: float
    unit: Unit

    @property
    def subject(self) -> str:
        """The node this action writes."""
        return self.node_id

    def describe(self) -> str:
        """One line for the engineer."""
        return f"Set {self.node_id} {self.from_value:g} → {self.to_value:g} {self.unit}"


class LotHold(_Action):
    """Put lots on hold in the MES so they cannot be shipped or consumed; release reverses it."""

    kind: Literal["lot_hold"] = "lot_hold"
    lot_ids: tuple[Name, ...] = Field(min_length=1, max_length=100)
    reason: Text

    @field_validator("lot_ids")
    @classmethod
    def _sorted_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(value)))

    @property
    def subject(self) -> str:
        """The lots this action holds."""
        return "lots:" + ",".join(self.lot_ids)

    def describe(self) -> str:
        """One line for the engineer."""
        return f"Hold {len(self.lot_ids)} lot(s) in the MES: {', '.join(self.lot_ids)}"


class PurchaseRequisition(_Action):
    """Create a purchase requisition in the MES/ERP for a material, needed by a date."""

    kind: Literal["purchase_requisition"] = "purchase_requisition"
    material_id: Name
    quantity: float = Field(gt=0)
    unit: Unit
    supplier: Name
    need_by: datetime

    @field_validator("quantity")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"quantity must be a finite number; got {value}")
        return value

    @property
    def subject(self) -> str:
        """The material this action orders."""
        return f"material:{self.material_id}"

    def describe(self) -> str:
        """One line for the engineer."""
        return (
            f"Request {self.quantity:g} {self.unit} of {self.material_id} from {self.supplier}"
            f" by {self.need_by:%Y-%m-%d}"
        )


class DispatchEntry(BaseModel):
    """One operation of a dispatch list: which work order runs on which machine, when."""

    model_config = ConfigDict(frozen=True)

    work_order_id: Name
    operation: int = Field(ge=0)
    equipment_id: Name
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> DispatchEntry:
        if self.end < self.start:
            raise ValueError(
                f"{self.work_order_id} op {self.operation}: end {self.end} is before start"
            )
        return self


class DispatchList(_Action):
    """Publish a new dispatch list (sequence of operations per machine) for a line."""

    kind: Literal["dispatch_list"] = "dispatch_list"
    line_id: Name
    entries: tuple[DispatchEntry, ...] = Field(min_length=1)
    replaces: str | None = Field(None, description="The dispatch list this one supersedes")

    @property
    def subject(self) -> str:
        """The line whose dispatch list this action replaces."""
        return f"dispatch:{self.line_id}"

    def describe(self) -> str:
        """One line for the engineer."""
        orders = len({e.work_order_id for e in self.entries})
        return (
            f"Publish a dispatch list for {self.line_id}: {len(self.entries)} operations,"
            f" {orders} work orders"
        )


class MaintenanceWorkOrder(_Action):
    """Create a maintenance work order for a piece of equipment, due by a planned stop."""

    kind: Literal["maintenance_work_order"] = "maintenance_work_order"
    equipment_id: Name
    description: Text
    due_by: datetime
    priority: int = Field(2, ge=1, le=4, description="1 urgent … 4 when convenient")

    @property
    def subject(self) -> str:
        """The equipment this work order is for."""
        return f"maintenance:{self.equipment_id}"

    def describe(self) -> str:
        """One line for the engineer."""
        return f"Maintenance work order for {self.equipment_id} by {self.due_by:%Y-%m-%d %H:%M} UTC"


class LoadSlot(BaseModel):
    """Energy a deferrable load draws in one time slot."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    energy_kwh: float = Field(ge=0)


class LoadPlan(BaseModel):
    """When one deferrable load runs."""

    model_config = ConfigDict(frozen=True)

    load: Name
    slots: tuple[LoadSlot, ...]


class LoadShift(_Action):
    """Publish a load plan: when deferrable loads run, inside their deadlines."""

    kind: Literal["load_shift"] = "load_shift"
    site_id: Name
    plans: tuple[LoadPlan, ...] = Field(min_length=1)

    @property
    def subject(self) -> str:
        """The site whose load plan this action replaces."""
        return f"loads:{self.site_id}"

    def describe(self) -> str:
        """One line for the engineer."""
        return f"Run {len(self.plans)} deferrable load(s) at {self.site_id} in cheaper slots"


class Advice(_Action):
    """Advice for people to act on; approving it acknowledges it and writes nothing to the plant."""

    kind: Literal["advice"] = "advice"
    topic: Name
    summary: Text

    @property
    def subject(self) -> str:
        """What the advice is about."""
        return f"advice:{self.topic}"

    def describe(self) -> str:
        """One line for the engineer."""
        return f"Advice ({self.topic}): {self.summary}"


Action = Annotated[
    SetpointChange
    | LotHold
    | PurchaseRequisition
    | DispatchList
    | MaintenanceWorkOrder
    | LoadShift
    | Advice,
    Field(discriminator="kind"),
]
"""Any action an agent may propose."""

ActionKind = Literal[
    "setpoint_change",
    "lot_hold",
    "purchase_requisition",
    "dispatch_list",
    "maintenance_work_order",
    "load_shift",
    "advice",
]
"""The name of an action kind, as agents list the kinds they may propose in their spec."""

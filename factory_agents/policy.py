"""Guardrails: which actions agents may take: setpoints within bounds and steps, MES actions
within the size limits the site allows. Anything not allowed here is refused."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from factory_agents.actions import (
    Action,
    ActionKind,
    DispatchList,
    LoadShift,
    LotHold,
    PurchaseRequisition,
    SetpointChange,
)
from factory_agents.agent import RiskClass
from factory_agents.errors import GuardrailViolation


class SetpointLimit(BaseModel):
    """One allow-listed setpoint: its node, unit, bounds and the largest change allowed at once."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    unit: str
    minimum: float
    maximum: float
    max_step: float = Field(gt=0)
    min_interval_seconds: float = Field(default=0.0, ge=0)
    risk: RiskClass = RiskClass.MEDIUM
    reversible: bool = Field(True, description="The old value can be written back")
    data_type: (
        Literal[
            "Double",
            "Float",
            "SByte",
            "Byte",
            "Int16",
            "UInt16",
            "Int32",
            "UInt32",
            "Int64",
            "UInt64",
        ]
        | None
    ) = Field(None, description="The node's data type; a node of another type is refused")

    @model_validator(mode="after")
    def _bounds_in_order(self) -> SetpointLimit:
        if not self.minimum < self.maximum:
            raise ValueError(
                f"setpoint {self.node_id}: minimum {self.minimum} must be below maximum"
                f" {self.maximum}"
            )
        return self

    def check(self, current: float, target: float) -> None:
        """Raise GuardrailViolation unless moving from `current` to `target` is allowed."""
        if not math.isfinite(target):
            raise GuardrailViolation(f"{self.node_id}: target {target} is not a finite number")
        if not self.minimum <= target <= self.maximum:
            raise GuardrailViolation(
                f"{self.node_id}: target {target:g} {self.unit} is outside its bounds"
                f" [{self.minimum:g}, {self.maximum:g}] {self.unit}; nothing was written."
                " Propose a value inside the bounds or change the policy."
            )
        step = abs(target - current)
        if step > self.max_step + 1e-9:
            raise GuardrailViolation(
                f"{self.node_id}: a change of {step:g} {self.unit} (from {current:g} to"
                f" {target:g}) exceeds the maximum step of {self.max_step:g} {self.unit};"
                " nothing was written. Split the change or change the policy."
            )

    def check_interval(self, last_write: datetime | None, now: datetime) -> None:
        """Raise GuardrailViolation if the node was written less than the minimum interval ago."""
        if last_write is None or self.min_interval_seconds == 0:
            return
        elapsed = (now - last_write).total_seconds()
        if elapsed < self.min_interval_seconds:
            raise GuardrailViolation(
                f"{self.node_id} was last changed {elapsed:.0f} s ago; the policy allows one change"
                f" every {self.min_interval_seconds:g} s, so nothing was written. The agent will"
                " propose again from the live value if it still needs to."
            )


class ActionRule(BaseModel):
    """An allowed kind of MES or advisory action, and how much one action of it may touch."""

    model_config = ConfigDict(frozen=True)

    kind: ActionKind
    risk: RiskClass = RiskClass.MEDIUM
    reversible: bool = Field(False, description="The action can be undone (e.g. a lot hold)")
    max_items: int | None = Field(
        None, gt=0, description="Most lots, dispatch entries or load plans in one action"
    )
    max_quantity: float | None = Field(None, gt=0, description="Largest requisition quantity")

    def check(self, action: Action) -> None:
        """Raise GuardrailViolation if the action is larger than this rule allows."""
        items = _items(action)
        if self.max_items is not None and items is not None and items > self.max_items:
            raise GuardrailViolation(
                f"{action.describe()}: {items} items exceed the policy's maximum of"
                f" {self.max_items} for {action.kind}; nothing was done. Split it or change"
                " the policy."
            )
        if (
            self.max_quantity is not None
            and isinstance(action, PurchaseRequisition)
            and action.quantity > self.max_quantity
        ):
            raise GuardrailViolation(
                f"{action.describe()}: {action.quantity:g} {action.unit} exceeds the policy's"
                f" maximum of {self.max_quantity:g} per requisition; nothing was done."
            )


def _items(action: Action) -> int | None:
    """How many things one action touches, for the kinds where that is bounded."""
    if isinstance(action, LotHold):
        return len(action.lot_ids)
    if isinstance(action, DispatchList):
        return len(action.entries)
    if isinstance(action, LoadShift):
        return len(action.plans)
    return None


class RateLimits(BaseModel):
    """How many proposals an agent, and how many actions a subject, may see per hour."""

    model_config = ConfigDict(frozen=True)

    proposals_per_agent_per_hour: int = Field(30, gt=0)
    actions_per_subject_per_hour: int = Field(6, gt=0)


class ActionClass(BaseModel):
    """How the policy classes one proposed action: its risk, and whether it can be undone."""

    model_config = ConfigDict(frozen=True)

    risk: RiskClass
    reversible: bool

    @property
    def approvers(self) -> int:
        """Different engineers who must approve: two for high risk, otherwise one."""
        return 2 if self.risk == RiskClass.HIGH else 1

    @property
    def may_run_autonomously(self) -> bool:
        """Only low-risk, reversible actions may ever be taken without a person approving."""
        return self.risk == RiskClass.LOW and self.reversible


class Policy(BaseModel):
    """The guardrails in force: allow-listed setpoints, the other action kinds, rate limits."""

    model_config = ConfigDict(frozen=True)

    setpoints: tuple[SetpointLimit, ...] = ()
    actions: tuple[ActionRule, ...] = ()
    rate_limits: RateLimits = Field(default_factory=RateLimits)

    def classify(self, action: Action) -> ActionClass:
        """The action's risk and reversibility as this policy states them (checked first)."""
        self.check_action(action)
        if isinstance(action, SetpointChange):
            limit = self.limit_for(action.node_id)
            return ActionClass(risk=limit.risk, reversible=limit.reversible)
        rule = next(rule for rule in self.actions if rule.kind == action.kind)
        return ActionClass(risk=rule.risk, reversible=rule.reversible)

    def check_action(self, action: Action) -> None:
        """Raise GuardrailViolation unless the policy allows this action as proposed."""
        if isinstance(action, SetpointChange):
            limit = self.limit_for(action.node_id)
            if action.unit != limit.unit:
                raise GuardrailViolation(
                    f"{action.node_id}: the proposal is in {action.unit!r}, the setpoint in"
                    f" {limit.unit!r}; nothing was written. Propose the value in {limit.unit!r}."
                )
            limit.check(action.from_value, action.to_value)
            return
        for rule in self.actions:
            if rule.kind == action.kind:
                rule.check(action)
                return
        raise GuardrailViolation(
            f"{action.kind} actions are not allowed by the policy; nothing was done. Add an"
            f" action rule for {action.kind} if agents may take them."
        )

    def limit_for(self, node_id: str) -> SetpointLimit:
        """The allow-list entry for `node_id`, or GuardrailViolation if it has none."""
        for limit in self.setpoints:
            if limit.node_id == node_id:
                return limit
        raise GuardrailViolation(
            f"{node_id} is not on the allow-list of writable setpoints; nothing was written."
            " Add it to the policy if agents may change it."
        )

    def check(self, node_id: str, current: float, target: float) -> None:
        """Raise GuardrailViolation unless the change is allow-listed and within bounds."""
        self.limit_for(node_id).check(current, target)

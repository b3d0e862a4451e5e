"""Guardrails: which setpoints an agent may change, within which bounds and steps."""

from __future__ import annotations

import math
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class Policy(BaseModel):
    """The guardrails in force: the allow-list of setpoints agents may change."""

    model_config = ConfigDict(frozen=True)

    setpoints: tuple[SetpointLimit, ...] = ()

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

"""What an agent is: its spec, the data it reads, and the proposals it returns (pydantic models).

An agent is plain Python: it never imports Temporal, asyncua or Streamlit. It states the
tags it needs in its spec, receives samples for them, and returns findings and proposals.

Example (an integrator's agent, registered under the `factory_agents.agents` entry point)::

    class OvenConfig(BaseModel):
        temperature_tag: str

    class OvenAgent:
        def __init__(self, config: OvenConfig) -> None:
            self.spec = SPEC
            self.config = config

        def needs(self) -> DataNeeds:
            return DataNeeds(history=(self.config.temperature_tag,))

        def analyze(self, data: AgentInput) -> AgentOutput:
            return AgentOutput(agent=SPEC.name)

    SPEC = AgentSpec(name="oven_energy", version="1.0", domain=Domain.ENERGY,
                     description="...", config_model=OvenConfig, factory=OvenAgent)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from factory_agents.plant import Sample


class Domain(StrEnum):
    """The catalog's domains."""

    QUALITY = "quality"
    SUPPLY_CHAIN = "supply_chain"
    SCHEDULING = "scheduling"
    MAINTENANCE = "maintenance"
    ENERGY = "energy"


class RiskClass(StrEnum):
    """How much harm a wrong action of this agent could do."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class DataNeeds(BaseModel):
    """The tags an agent reads: current values, and history over a look-back window."""

    model_config = ConfigDict(frozen=True)

    current: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    lookback_seconds: float = 60.0


class AgentInput(BaseModel):
    """Everything an agent sees in one run: samples as the connectors delivered them."""

    model_config = ConfigDict(frozen=True)

    now: datetime
    current: dict[str, Sample] = Field(default_factory=dict)
    history: dict[str, list[Sample]] = Field(default_factory=dict)


class SetpointChange(BaseModel):
    """Write one allow-listed setpoint; `from_value` is the live value the proposal was based on."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["setpoint_change"] = "setpoint_change"
    action_id: str
    node_id: str
    from_value: float
    to_value: float
    unit: str


class ControlChart(BaseModel):
    """Evidence: a characteristic over time with its EWMA, limits and the points that signalled."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["control_chart"] = "control_chart"
    characteristic: str
    unit: str
    times: list[datetime]
    values: list[float]
    ewma: list[float]
    center: float
    sigma: float
    ewma_lcl: float
    ewma_ucl: float
    lsl: float
    usl: float
    signals: dict[int, list[str]] = Field(default_factory=dict)


class EstimatedSaving(BaseModel):
    """A saving predicted before acting: amount over a horizon, formula, inputs, assumptions."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str = "EUR"
    horizon_hours: float
    formula: str
    inputs: dict[str, float]
    assumptions: list[str]


class Baseline(BaseModel):
    """The state recorded before acting, against which the realized saving is measured."""

    model_config = ConfigDict(frozen=True)

    metric: str
    value: float
    units: int
    start: datetime
    end: datetime
    method: str


class RealizedSaving(BaseModel):
    """A saving measured after acting over a window, against the recorded baseline."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str = "EUR"
    period_hours: float
    metric_after: float
    units: int
    method: str


class CounterReading(BaseModel):
    """Good and scrap counters of a line at one moment, read from the plant."""

    model_config = ConfigDict(frozen=True)

    good: int
    scrap: int
    at: datetime


class VerificationWindow(BaseModel):
    """What the plant did after acting: counters at both ends, and the agent's series between."""

    model_config = ConfigDict(frozen=True)

    before: CounterReading
    after: CounterReading
    data: AgentInput


class Proposal(BaseModel):
    """An action an agent proposes, with its evidence, estimated saving and baseline."""

    model_config = ConfigDict(frozen=True)

    proposal_id: str
    agent: str
    line: str
    title: str
    rationale: str
    action: SetpointChange
    evidence: ControlChart
    estimated_saving: EstimatedSaving
    baseline: Baseline
    unit_cost: Decimal
    counters: tuple[str, str]
    created_at: datetime

    def content_hash(self) -> str:
        """SHA-256 of the proposal exactly as shown to the engineer (canonical JSON)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class Finding(BaseModel):
    """Something an agent noticed, whether or not it leads to a proposal."""

    model_config = ConfigDict(frozen=True)

    agent: str
    severity: Literal["info", "warning", "alarm"]
    message: str


class AgentOutput(BaseModel):
    """What one run of an agent found, proposed, and skipped (with reasons)."""

    agent: str
    findings: list[Finding] = Field(default_factory=list)
    proposals: list[Proposal] = Field(default_factory=list)
    skipped: dict[str, int] = Field(default_factory=dict)


class Agent(Protocol):
    """An agent: pure analytics over plain data, returning findings and proposals."""

    spec: AgentSpec

    def needs(self) -> DataNeeds:
        """The tags this agent reads."""
        ...

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Look at the data and return findings and proposals."""
        ...

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """The saving realized over the verification window after acting."""
        ...


@dataclass(frozen=True)
class AgentSpec:
    """An agent's identity card: found through the `factory_agents.agents` entry point."""

    name: str
    version: str
    domain: Domain
    description: str
    config_model: type[BaseModel]
    factory: Callable[[Any], Agent]
    risk: RiskClass = RiskClass.MEDIUM
    actions: tuple[str, ...] = ("setpoint_change",)
    default_interval_seconds: float = 20.0

    def create(self, config: dict[str, Any] | None = None) -> Agent:
        """Build the agent from a plain config dict, validated by its config model."""
        return self.factory(self.config_model.model_validate(config or {}))

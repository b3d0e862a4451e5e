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

from factory_agents.actions import Action, ActionKind, SetpointChange
from factory_agents.evidence import ControlChart, Evidence
from factory_agents.isa95 import MesData, MesKind
from factory_agents.plant import Sample

__all__ = [
    "Action",
    "Agent",
    "AgentInput",
    "AgentOutput",
    "AgentSpec",
    "Baseline",
    "ControlChart",
    "DataNeeds",
    "Domain",
    "EstimatedSaving",
    "Evidence",
    "Finding",
    "PlantReading",
    "Proposal",
    "RealizedSaving",
    "RiskClass",
    "SetpointChange",
    "VerificationWindow",
]


class Domain(StrEnum):
    """The catalog's domains."""

    QUALITY = "quality"
    SUPPLY_CHAIN = "supply_chain"
    SCHEDULING = "scheduling"
    MAINTENANCE = "maintenance"
    ENERGY = "energy"
    LOSSES = "losses"


class RiskClass(StrEnum):
    """How much harm a wrong action of this agent could do."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class DataNeeds(BaseModel):
    """What an agent reads: tags now, tag history over a look-back, and MES records."""

    model_config = ConfigDict(frozen=True)

    current: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    lookback_seconds: float = 60.0
    mes: tuple[MesKind, ...] = ()
    mes_lookback_hours: float = Field(
        168.0, gt=0, description="Time-stamped MES records (results, stops, counts) this far back"
    )


class AgentInput(BaseModel):
    """Everything an agent sees in one run: samples and MES records as connectors delivered them."""

    model_config = ConfigDict(frozen=True)

    now: datetime
    current: dict[str, Sample] = Field(default_factory=dict)
    history: dict[str, list[Sample]] = Field(default_factory=dict)
    mes: MesData = Field(default_factory=MesData)


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


class PlantReading(BaseModel):
    """The values of a proposal's counters (e.g. good, scrap, energy) at one moment."""

    model_config = ConfigDict(frozen=True)

    values: dict[str, float]
    at: datetime

    def delta(self, later: PlantReading, tag: str) -> float:
        """How much counter `tag` grew from this reading to `later`."""
        return later.values[tag] - self.values[tag]


class VerificationWindow(BaseModel):
    """What the plant did after acting: counters at both ends, and the agent's data between."""

    model_config = ConfigDict(frozen=True)

    before: PlantReading
    after: PlantReading
    data: AgentInput


class Proposal(BaseModel):
    """An action an agent proposes, with its evidence, estimated saving and baseline."""

    model_config = ConfigDict(frozen=True)

    # bounded as the ledger stores them (a longer value would fail its insert on PostgreSQL)
    proposal_id: str = Field(min_length=1, max_length=64)
    agent: str = Field(min_length=1, max_length=100)
    line: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=400)
    rationale: str = Field(max_length=20_000)
    action: Action
    evidence: Evidence
    estimated_saving: EstimatedSaving
    baseline: Baseline
    unit_cost: Decimal | None = None
    counters: tuple[str, ...] = Field(
        (), description="Tags read at the start and end of the verification window"
    )
    created_at: datetime
    measure_until: datetime | None = Field(
        None,
        description="The verification window lasts at least until then, e.g. past the failure"
        " a maintenance order is to avoid; else the platform's verification time alone",
    )

    def content_hash(self) -> str:
        """SHA-256 of the proposal exactly as shown to the engineer (canonical JSON)."""
        shown = self.model_dump(
            mode="json", exclude={"measure_until"} if self.measure_until is None else None
        )
        canonical = json.dumps(shown, sort_keys=True, separators=(",", ":"))
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
    actions: tuple[ActionKind, ...] = ("setpoint_change",)
    default_interval_seconds: float = 20.0

    def create(self, config: dict[str, Any] | None = None) -> Agent:
        """Build the agent from a plain config dict, validated by its config model."""
        return self.factory(self.config_model.model_validate(config or {}))

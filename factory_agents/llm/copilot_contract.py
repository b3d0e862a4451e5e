"""What the copilot reads and hands on: the plant reader and draft sink it is given, the records
they pass (tags, KPIs, the dispatch list, drafts), and the answer with its trace and citations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from factory_agents.actions import Action
from factory_agents.isa95 import DowntimeEvent, QualityResult
from factory_agents.ledger.views import AgentTotals, ProposalView
from factory_agents.plant import Quality, Sample

DETERMINISTIC = "deterministic"
"""The model label of an answer made without a language model."""

# ---------------------------------------------------------------- what the copilot reads


class TagInfo(BaseModel):
    """A tag the copilot knows: its NodeId, whether it holds a number or text, its unit."""

    model_config = ConfigDict(frozen=True)

    tag: str
    kind: Literal["number", "text"] = "number"
    unit: str = ""
    description: str = ""


class TagReading(BaseModel):
    """A tag's current value: a number or a text, with quality and source time."""

    model_config = ConfigDict(frozen=True)

    tag: str
    value: float | None = None
    text: str | None = None
    unit: str = ""
    quality: Quality
    source_time: datetime | None = None


class LineKpis(BaseModel):
    """A line's availability and quality over a window, with the elements behind them."""

    model_config = ConfigDict(frozen=True)

    line: str
    start: datetime
    end: datetime
    good: float
    scrap: float
    rework: float
    availability: float | None
    quality_ratio: float | None
    scrap_ratio: float | None
    planned_downtime_minutes: float
    unplanned_downtime_minutes: float
    stops: int
    counts_from: str = Field(description="Where the counts come from (MES or OPC UA counters)")


class ScheduledOperation(BaseModel):
    """One operation of the dispatch list in force: order, product, machine, when, status."""

    model_config = ConfigDict(frozen=True)

    work_order_id: str
    product_id: str
    quantity: int
    sequence: int
    equipment_id: str
    planned_start: datetime | None
    planned_end: datetime | None
    status: str
    due_at: datetime


class PlantReader(Protocol):
    """What the copilot may read, and nothing else: every method is read-only."""

    def now(self) -> datetime:
        """The current time (UTC)."""
        ...

    async def tag_catalog(self) -> list[TagInfo]:
        """The tags the copilot knows."""
        ...

    async def read_tags(self, tags: Sequence[str]) -> list[TagReading]:
        """Current values of `tags`, in order."""
        ...

    async def tag_history(self, tag: str, start: datetime, end: datetime) -> list[Sample]:
        """Raw values of one tag between start and end."""
        ...

    async def line_kpis(self, start: datetime, end: datetime) -> LineKpis:
        """Availability and quality of the line over [start, end]."""
        ...

    async def proposals(self, status: str | None, limit: int) -> list[ProposalView]:
        """Proposals newest first (all statuses when `status` is None)."""
        ...

    async def savings(self) -> list[AgentTotals]:
        """Estimated and realized savings per agent and currency."""
        ...

    async def dispatch_list(self, start: datetime, end: datetime) -> list[ScheduledOperation]:
        """Operations planned to run in [start, end], by planned start."""
        ...

    async def quality_results(self, start: datetime, end: datetime) -> list[QualityResult]:
        """Quality results sampled in [start, end]."""
        ...

    async def downtime(self, start: datetime, end: datetime) -> list[DowntimeEvent]:
        """Stops overlapping [start, end]."""
        ...


# ---------------------------------------------------------------- drafts


class DraftProposal(BaseModel):
    """An action the copilot drafted: schema-valid and within guardrails, not yet approved."""

    model_config = ConfigDict(frozen=True)

    draft_id: str
    action: Action
    title: str
    rationale: str
    question: str
    model: str
    created_at: datetime


class DraftSink(Protocol):
    """The platform's path for drafts: record a pending proposal that needs approval."""

    async def submit(self, draft: DraftProposal) -> str:
        """Record the draft as a pending proposal; its id. DraftRefused if it cannot be."""
        ...


class RecordingDraftSink:
    """Keeps drafts in a list and numbers them (tests, evals)."""

    def __init__(self) -> None:
        self.drafts: list[DraftProposal] = []

    async def submit(self, draft: DraftProposal) -> str:
        """Keep the draft; its id as the proposal id."""
        self.drafts.append(draft)
        return draft.draft_id


# ---------------------------------------------------------------- answers and their trace


class Citation(BaseModel):
    """A number in an answer and the tool result it came from."""

    model_config = ConfigDict(frozen=True)

    value: float
    text: str
    source: str = Field(description="tool name and the fact's key, e.g. read_tags:<tag>")


class ToolCallRecord(BaseModel):
    """One tool call a model (or the intent matcher) asked for, and what became of it."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    name: str
    args: dict[str, Any] | str
    status: Literal["executed", "refused", "failed"]
    message: str
    facts: dict[str, float] = Field(default_factory=dict)


class DraftOutcome(BaseModel):
    """A draft the copilot attempted: recorded as a pending proposal, or refused."""

    model_config = ConfigDict(frozen=True)

    status: Literal["recorded", "refused"]
    proposal_id: str | None = None
    action: str
    reason: str


class CopilotAnswer(BaseModel):
    """An answer with the numbers it cites, the tool calls made and any drafts."""

    model_config = ConfigDict(frozen=True)

    question: str
    answer: str
    generated_by: str
    label: str
    needs_model: bool = False
    citations: list[Citation] = Field(default_factory=list)
    unsupported_numbers: list[str] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    drafts: list[DraftOutcome] = Field(default_factory=list)
    steps: int = 0
    stopped: str | None = None

    @property
    def refusals(self) -> list[ToolCallRecord]:
        """The tool calls that were refused."""
        return [call for call in self.tool_calls if call.status == "refused"]

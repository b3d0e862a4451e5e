"""The language layer's Temporal activities: explain a proposal, answer a question.

Each call builds the task's models through the router inside the activity; the provider
clients do not retry (`max_retries=0`), Temporal does: the caller sets the activity's
start-to-close timeout and retry policy. A transient failure of every model (outage,
timeout) raises a retryable error until the last attempt (or `fall_back_after_attempt`),
which answers without a model instead and says so. Malformed or unfaithful answers are
never retried: the deterministic result is used and the rejection recorded. Usage records
of every call, failed attempts included, go to the usage sink.

Example (in a workflow)::

    result = await workflow.execute_activity_method(
        LanguageActivities.explain_proposal,
        ExplainInput(proposal=proposal),
        start_to_close_timeout=timedelta(seconds=90),
        retry_policy=RetryPolicy(maximum_attempts=3, non_retryable_error_types=NEVER_RETRY),
    )
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Protocol

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.uaerrors import UaError
from pydantic import BaseModel, Field, model_validator
from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.base import MesSource
from connectors.mes import SqlMes
from connectors.opcua.connector import OpcUaConnector
from connectors.opcua.samples import parse_node_id, quality_of, source_time
from factory_agents.agent import Proposal
from factory_agents.errors import ConnectorError, FactoryAgentsError, ProposalNotFound
from factory_agents.ledger.repository import Ledger
from factory_agents.ledger.views import ProposalStatus
from factory_agents.llm.config import LlmConfig, TaskKind
from factory_agents.llm.copilot import ask
from factory_agents.llm.copilot_contract import (
    DETERMINISTIC,
    CopilotAnswer,
    DraftProposal,
    DraftSink,
    PlantReader,
)
from factory_agents.llm.cost import UsageMeter, UsageRecord, UsageSink
from factory_agents.llm.errors import DraftRefused, LlmConfigurationError, ModelCallError
from factory_agents.llm.explain import Explanation, explain_proposal
from factory_agents.llm.reader import (
    COPILOT_AGENT,
    PlatformReader,
    TagTextReading,
    draft_to_proposal,
)
from factory_agents.llm.router import ModelRouter
from factory_agents.plant import Quality
from factory_agents.policy import Policy
from factory_agents.settings import Settings
from workflows.contracts import ProposalInput, ProposalTicket

NEVER_RETRY = ["LlmConfigurationError", "ProviderNotInstalled", "ValueError"]
"""Error types a caller's retry policy should not retry (configuration, bad input)."""
DEFAULT_FALL_BACK_AFTER_ATTEMPT = 3

ReaderFactory = Callable[[], AbstractAsyncContextManager[PlantReader]]
"""Opens a PlantReader for one question (and closes its connections afterwards)."""
ProposalLookup = Callable[[str], Proposal | None]
"""Finds a recorded proposal by id (over the ledger's get_proposal)."""


class ExplanationSink(Protocol):
    """Where explanations are kept for the board and the CLI (the ledger implements this)."""

    def record_explanation(self, explanation: Explanation) -> None:
        """Store it, replacing an earlier one of the same proposal and content hash."""
        ...


class ExplainInput(BaseModel):
    """The proposal to explain (or its id, read from the ledger), and after which attempt an
    outage falls back to no model."""

    proposal: Proposal | None = None
    proposal_id: str | None = None
    fall_back_after_attempt: int = Field(DEFAULT_FALL_BACK_AFTER_ATTEMPT, ge=1)

    @model_validator(mode="after")
    def _one_proposal(self) -> ExplainInput:
        if (self.proposal is None) == (self.proposal_id is None):
            raise ValueError("give the proposal or its proposal_id, not both and not neither")
        return self


class ExplainResult(BaseModel):
    """The explanation and the usage of the model calls made for it (this attempt)."""

    explanation: Explanation
    usage: list[UsageRecord]


class AskInput(BaseModel):
    """A question for the copilot; drafting only when asked for (routed to `draft` models)."""

    question: str = Field(min_length=1, max_length=4000)
    allow_drafts: bool = False
    user: str = ""
    fall_back_after_attempt: int = Field(DEFAULT_FALL_BACK_AFTER_ATTEMPT, ge=1)


class AskResult(BaseModel):
    """The copilot's answer and the usage of the model calls made for it (this attempt)."""

    answer: CopilotAnswer
    usage: list[UsageRecord]


def _last_attempt(fall_back_after: int) -> bool:
    """True outside an activity, or on the last attempt Temporal makes (or `fall_back_after`)."""
    if not activity.in_activity():
        return True
    info = activity.info()
    limit = fall_back_after
    policy = info.retry_policy
    if policy is not None and policy.maximum_attempts > 0:
        limit = min(limit, policy.maximum_attempts)
    return info.attempt >= limit


class LanguageActivities:
    """Holds the configuration, the usage sink and the plant reader; methods are activities.

    `explain` and `answer` are the plain coroutines (platform errors propagate), for
    in-process callers such as the CLI and the board; `explain_proposal` and
    `answer_question` are the same as Temporal activities (errors become ApplicationError).
    """

    def __init__(
        self,
        config: LlmConfig,
        *,
        usage_sink: UsageSink,
        reader: ReaderFactory | None = None,
        draft_sink: DraftSink | None = None,
        policy: Policy | None = None,
        router: ModelRouter | None = None,
        proposals: ProposalLookup | None = None,
        explanations: ExplanationSink | None = None,
    ) -> None:
        self.config = config
        self.proposals = proposals
        self.explanations = explanations
        self.router = router or ModelRouter(config)
        self.usage_sink = usage_sink
        self.reader = reader
        self.draft_sink = draft_sink
        self.policy = policy or Policy()

    async def explain(self, inp: ExplainInput) -> ExplainResult:
        """Explain a proposal: by its models if configured and faithful, else deterministically."""
        proposal = await self._proposal(inp)
        models = self.router.for_task("explain")
        task_id = f"explain:{proposal.proposal_id}:{proposal.content_hash()[:12]}"
        meter = UsageMeter("explain", task_id, self.config.prices.price_for)
        explanation: Explanation | None = None
        try:
            explanation = await explain_proposal(
                proposal,
                models,
                meter=meter,
                fallback_on_call_failure=_last_attempt(inp.fall_back_after_attempt),
            )
        finally:
            records = meter.finish(explanation is not None and explanation.source == "model")
            if records:
                await asyncio.to_thread(self.usage_sink.record_usage, records)
        if self.explanations is not None:
            await asyncio.to_thread(self.explanations.record_explanation, explanation)
        return ExplainResult(explanation=explanation, usage=records)

    async def _proposal(self, inp: ExplainInput) -> Proposal:
        """The proposal given, or the one recorded under the id given."""
        if inp.proposal is not None:
            return inp.proposal
        assert inp.proposal_id is not None
        if self.proposals is None:
            raise LlmConfigurationError(
                "explaining by proposal id needs a proposal lookup; give LanguageActivities"
                " `proposals` (e.g. over the ledger) or pass the proposal itself"
            )
        found = await asyncio.to_thread(self.proposals, inp.proposal_id)
        if found is None:
            raise ProposalNotFound(
                f"no proposal {inp.proposal_id!r} in the ledger; nothing to explain"
            )
        return found

    async def answer(self, inp: AskInput) -> AskResult:
        """Answer a question with the copilot's read-only tools (drafts only if allowed)."""
        if self.reader is None:
            raise LlmConfigurationError(
                "the copilot has no plant reader here; give LanguageActivities a reader factory"
            )
        task: TaskKind = "draft" if inp.allow_drafts else "copilot"
        models = self.router.for_task(task)
        meter = UsageMeter(task, f"{task}:{uuid.uuid4().hex[:12]}", self.config.prices.price_for)
        answer: CopilotAnswer | None = None
        try:
            async with self.reader() as reader:
                answer = await ask(
                    inp.question,
                    reader,
                    models,
                    max_steps=self.config.max_steps,
                    allow_drafts=inp.allow_drafts,
                    draft_sink=self.draft_sink,
                    policy=self.policy,
                    meter=meter,
                    fallback_on_call_failure=_last_attempt(inp.fall_back_after_attempt),
                )
        finally:
            ok = (
                answer is not None
                and answer.generated_by != DETERMINISTIC
                and answer.stopped is None
            )
            records = meter.finish(ok)
            if records:
                await asyncio.to_thread(self.usage_sink.record_usage, records)
        return AskResult(answer=answer, usage=records)

    @activity.defn(name="explain_proposal")
    async def explain_proposal(self, inp: ExplainInput) -> ExplainResult:
        """The `explain` activity: configuration errors final, model outages retried."""
        with _as_application_errors():
            return await self.explain(inp)

    @activity.defn(name="answer_question")
    async def answer_question(self, inp: AskInput) -> AskResult:
        """The `answer` activity: configuration errors final, model outages retried."""
        with _as_application_errors():
            return await self.answer(inp)


@contextmanager
def _as_application_errors() -> Iterator[None]:
    """Platform errors as Temporal errors: outages retryable, everything else final."""
    try:
        yield
    except ModelCallError as err:
        raise ApplicationError(str(err), type="ModelCallError") from err
    except (FactoryAgentsError, ValueError) as err:
        raise ApplicationError(str(err), type=type(err).__name__, non_retryable=True) from err


class OpcUaTextSource:
    """Reads OPC UA String tags over an anonymous, unsecured session (the local simulator).

    For a secured server, give OpcUaConnector a `read_text` method with the same signature:
    PlatformReader then uses the connector itself.
    """

    def __init__(self, endpoint: str, *, timeout: float = 5.0) -> None:
        self.endpoint = endpoint
        self.timeout = timeout

    async def read_text(self, node_ids: Sequence[str]) -> list[TagTextReading]:
        """One reading per node id: its text if it holds a String, with quality and time."""
        nodes = [parse_node_id(node_id) for node_id in node_ids]
        try:
            async with Client(self.endpoint, timeout=self.timeout) as client:
                values = [
                    await client.get_node(node).read_data_value(raise_on_bad_status=False)
                    for node in nodes
                ]
        except (OSError, TimeoutError, UaError) as err:
            raise ConnectorError(
                f"cannot read text tags from {self.endpoint}: {err}. Is the OPC UA server up?"
            ) from err
        received = datetime.now(UTC)
        readings = []
        for node_id, value in zip(node_ids, values, strict=True):
            variant = value.Value
            is_text = variant is not None and variant.VariantType in (
                ua.VariantType.String,
                ua.VariantType.LocalizedText,
            )
            text = None
            if is_text and variant is not None and variant.Value is not None:
                raw = variant.Value
                text = raw.Text if isinstance(raw, ua.LocalizedText) else str(raw)
            quality = quality_of(value.StatusCode) if text is not None else Quality.BAD
            readings.append(
                TagTextReading(
                    tag=node_id,
                    text=text,
                    quality=quality,
                    source_time=source_time(value, received),
                )
            )
        return readings


@asynccontextmanager
async def open_platform_reader(
    settings: Settings, ledger: Ledger, mes: MesSource, policy: Policy
) -> AsyncIterator[PlatformReader]:
    """A PlatformReader over the plant's OPC UA server, the MES and the ledger (closes after)."""
    async with OpcUaConnector(settings.opcua_endpoint, policy=policy) as tags:
        yield PlatformReader(ledger, tags, mes, texts=OpcUaTextSource(settings.opcua_endpoint))


def _deadline(config: LlmConfig) -> float:
    """Seconds an in-process question may take: every step at its timeout, plus the tools."""
    return config.timeout_seconds * (config.max_steps + 1) + 30.0


async def ask_platform(
    settings: Settings,
    config: LlmConfig,
    inp: AskInput,
    *,
    usage_sink: UsageSink,
    ledger: Ledger | None = None,
    draft_sink: DraftSink | None = None,
) -> AskResult:
    """Answer in this process (CLI, board) on the same path as the activity, within a deadline."""
    own_ledger = ledger is None
    opened = ledger if ledger is not None else Ledger.open(settings.ledger_url)
    mes = SqlMes(settings.mes_url)
    policy = settings.policy()
    activities = LanguageActivities(
        config,
        usage_sink=usage_sink,
        reader=lambda: open_platform_reader(settings, opened, mes, policy),
        draft_sink=draft_sink,
        policy=policy,
    )
    deadline = _deadline(config)
    try:
        async with asyncio.timeout(deadline):
            return await activities.answer(inp)
    except TimeoutError as err:
        raise ModelCallError(
            f"no answer within {deadline:g} s (FACTORY_LLM_TIMEOUT_SECONDS per call,"
            f" FACTORY_LLM_MAX_STEPS calls); try a narrower question or a faster model"
        ) from err
    finally:
        mes.close()
        if own_ledger:
            opened.close()


class PlatformDraftSink:
    """Copilot drafts admitted like an agent's proposal, then given their approval workflow.

    The draft becomes a proposal of agent `copilot` (`draft_to_proposal`), goes through the
    platform's `Admission` (kill switch, one open proposal per subject, guardrails, rate
    limit), is recorded as pending and gets a ProposalWorkflow in Temporal, requested by
    `user`. Nothing is executed until engineers approve it.
    """

    def __init__(self, settings: Settings, ledger: Ledger, policy: Policy, *, user: str) -> None:
        self.settings = settings
        self.ledger = ledger
        self.policy = policy
        self.user = user

    async def submit(self, draft: DraftProposal) -> str:
        """Admit and record the draft, start its approval workflow; its proposal id."""
        from workflows.admission import Admission, Withheld

        proposal = draft_to_proposal(draft)
        admission = Admission(self.settings, self.ledger, self.policy)
        admitted = await asyncio.to_thread(
            admission.admit, proposal, f"copilot-{draft.draft_id}", datetime.now(UTC)
        )
        if isinstance(admitted, Withheld):
            raise DraftRefused(f"the draft was not admitted: {admitted.message}")
        ticket = admitted.model_copy(update={"requested_by": self.user or COPILOT_AGENT})
        try:
            await self._start(ticket)
        except Exception as err:
            await asyncio.to_thread(
                self.ledger.set_status,
                proposal.proposal_id,
                ProposalStatus.FAILED,
                actor=COPILOT_AGENT,
                detail=f"approval workflow not started: {err}",
            )
            raise DraftRefused(
                f"the draft was recorded as {proposal.proposal_id} but its approval workflow"
                f" could not start ({err}); it was marked failed. Is the platform up?"
            ) from err
        return proposal.proposal_id

    async def _start(self, ticket: ProposalTicket) -> None:
        from workflows.client import connect
        from workflows.proposal import ProposalWorkflow

        client = await connect(self.settings)
        await client.start_workflow(
            ProposalWorkflow.run,
            ProposalInput(
                ticket=ticket,
                policy=self.policy,
                verification_seconds=self.settings.verification_seconds,
            ),
            id=ticket.proposal_id,
            task_queue=self.settings.task_queue,
        )

"""The language activities: in an activity environment, and on the Temporal dev server with
retries (provider clients do not retry; Temporal does, then falls back to no model)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from factory_agents import site
from factory_agents.actions import SetpointChange
from factory_agents.agent import Proposal
from factory_agents.ledger.repository import Ledger
from factory_agents.llm import fakes
from factory_agents.llm.config import LlmConfig, parse_models
from factory_agents.llm.copilot_contract import DraftProposal, PlantReader
from factory_agents.llm.cost import InMemoryUsageSink
from factory_agents.llm.errors import DraftRefused
from factory_agents.llm.explain import Explanation, ModelExplanation
from factory_agents.llm.fakes import Step, call_tools, reply, structured, tool_call
from factory_agents.llm.reader import PlatformReader
from factory_agents.settings import Settings
from tests.factories import build_proposal
from tests.llm.helpers import NOW
from workflows.llm_activities import (
    NEVER_RETRY,
    AskInput,
    ExplainInput,
    ExplainResult,
    LanguageActivities,
    PlatformDraftSink,
)

GOOD_EXPLANATION = {
    "summary": "The agent proposes to lower the setpoint from 500.5 to 500 g.",
    "cited_numbers": [
        {"value": 500.5, "source": "action.from_value"},
        {"value": 500.0, "source": "action.to_value"},
    ],
    "caveats": [],
}


class Flaky:
    """A script factory: the first `failures` models built fail, the later ones explain."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.built = 0

    def __call__(self) -> list[Step]:
        self.built += 1
        if self.built <= self.failures:
            return [ConnectionError(f"provider down (build {self.built})")]
        return [structured(ModelExplanation, GOOD_EXPLANATION)]


@pytest.fixture
def flaky(script: list[str]) -> Iterator[Flaky]:
    """`fake:flaky` fails its first call of each test; tests set how many."""
    factory = Flaky(failures=1)
    fakes.register_script("flaky", factory)
    script.append("flaky")
    yield factory


def activities(
    models: str, sink: InMemoryUsageSink, reader: PlantReader | None = None
) -> LanguageActivities:
    @asynccontextmanager
    async def open_reader() -> AsyncIterator[PlantReader]:
        assert reader is not None
        yield reader

    return LanguageActivities(
        LlmConfig(routes=parse_models(models)),
        usage_sink=sink,
        reader=open_reader if reader is not None else None,
        policy=site.DEFAULT_POLICY,
    )


def on_attempt(attempt: int, maximum: int = 3) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, attempt=attempt, retry_policy=RetryPolicy(maximum_attempts=maximum)
    )
    return env


async def test_explain_activity_uses_the_model_and_records_usage(flaky: Flaky) -> None:
    flaky.failures = 0
    sink = InMemoryUsageSink()

    result = await on_attempt(1).run(
        activities("explain=fake:flaky", sink).explain_proposal,
        ExplainInput(proposal=build_proposal()),
    )

    assert result.explanation.source == "model"
    assert result.explanation.model == "fake:flaky"
    (record,) = sink.records
    assert record == result.usage[0]
    assert (record.task, record.model, record.call_ok, record.task_ok) == (
        "explain",
        "fake:flaky",
        True,
        True,
    )
    assert record.task_id.startswith("explain:prop-1:")


async def test_an_outage_before_the_last_attempt_is_left_to_temporal(flaky: Flaky) -> None:
    sink = InMemoryUsageSink()

    with pytest.raises(ApplicationError) as caught:
        await on_attempt(1).run(
            activities("explain=fake:flaky", sink).explain_proposal,
            ExplainInput(proposal=build_proposal()),
        )

    assert caught.value.type == "ModelCallError" and not caught.value.non_retryable
    (record,) = sink.records  # the failed call is accounted for all the same
    assert not record.call_ok and record.task_ok is False


async def test_on_the_last_attempt_an_outage_falls_back_to_no_model(flaky: Flaky) -> None:
    sink = InMemoryUsageSink()

    result = await on_attempt(3).run(
        activities("explain=fake:flaky", sink).explain_proposal,
        ExplainInput(proposal=build_proposal()),
    )

    assert result.explanation.source == "deterministic"
    assert "provider down" in result.explanation.rejections[0].reason


async def test_configuration_errors_are_final() -> None:
    sink = InMemoryUsageSink()

    with pytest.raises(ApplicationError) as caught:
        await on_attempt(1).run(
            activities("explain=fake:never-registered", sink).explain_proposal,
            ExplainInput(proposal=build_proposal()),
        )

    assert caught.value.type == "LlmConfigurationError" and caught.value.non_retryable


class KeptExplanations:
    """An explanation sink keeping what it is given."""

    def __init__(self) -> None:
        self.kept: list[Explanation] = []

    def record_explanation(self, explanation: Explanation) -> None:
        """Keep it."""
        self.kept.append(explanation)


async def test_explain_by_id_reads_the_ledger_and_keeps_the_explanation(ledger: Ledger) -> None:
    proposal = build_proposal("prop-by-id", created_at=NOW)
    ledger.record_proposal(proposal, run_id=None, expires_at=NOW + timedelta(hours=1))
    kept = KeptExplanations()

    def lookup(proposal_id: str) -> Proposal | None:
        view = ledger.get_proposal(proposal_id)
        return view.proposal if view is not None else None

    language = LanguageActivities(
        LlmConfig(), usage_sink=InMemoryUsageSink(), proposals=lookup, explanations=kept
    )

    result = await on_attempt(1).run(
        language.explain_proposal, ExplainInput(proposal_id="prop-by-id")
    )

    assert result.explanation.proposal_id == "prop-by-id"
    assert result.explanation.source == "deterministic" and result.usage == []
    assert kept.kept == [result.explanation]
    with pytest.raises(ApplicationError) as caught:
        await on_attempt(1).run(language.explain_proposal, ExplainInput(proposal_id="nope"))
    assert caught.value.type == "ProposalNotFound" and caught.value.non_retryable


def test_explain_input_takes_the_proposal_or_its_id() -> None:
    with pytest.raises(ValueError, match="not both and not neither"):
        ExplainInput()
    with pytest.raises(ValueError, match="not both and not neither"):
        ExplainInput(proposal=build_proposal(), proposal_id="prop-1")


async def test_answer_activity_answers_with_tools_and_records_usage(
    reader: PlatformReader, script: list[str]
) -> None:
    fakes.register_script(
        "helper",
        lambda: [
            call_tools(tool_call("read_tags", {"tags": [site.LINE_GOOD]})),
            reply("1200 good units."),
        ],
    )
    script.append("helper")
    sink = InMemoryUsageSink()

    result = await on_attempt(1).run(
        activities("copilot=fake:helper", sink, reader).answer_question,
        AskInput(question="How many good units?"),
    )

    assert result.answer.answer == "1200 good units."
    assert result.answer.citations[0].source == f"read_tags:{site.LINE_GOOD}"
    assert [r.task for r in sink.records] == ["copilot", "copilot"]
    assert all(r.task_ok for r in sink.records)


async def test_answer_activity_without_a_reader_is_a_final_error() -> None:
    with pytest.raises(ApplicationError) as caught:
        await on_attempt(1).run(
            activities("", InMemoryUsageSink()).answer_question, AskInput(question="hi")
        )

    assert caught.value.non_retryable and "no plant reader" in caught.value.message


# ---------------------------------------------------------------- on the Temporal dev server


@workflow.defn(sandboxed=False)
class ExplainOnce:
    """Calls the explain activity the way a platform workflow would: timeout and retries."""

    @workflow.run
    async def run(self, inp: ExplainInput) -> ExplainResult:
        """Explain one proposal."""
        return await workflow.execute_activity_method(
            LanguageActivities.explain_proposal,
            inp,
            start_to_close_timeout=timedelta(seconds=20),
            retry_policy=RetryPolicy(
                maximum_attempts=3,
                initial_interval=timedelta(milliseconds=50),
                non_retryable_error_types=NEVER_RETRY,
            ),
        )


async def run_explain(temporal: WorkflowEnvironment, language: LanguageActivities) -> ExplainResult:
    queue = f"llm-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal.client,
        task_queue=queue,
        workflows=[ExplainOnce],
        activities=[language.explain_proposal],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        return await temporal.client.execute_workflow(
            ExplainOnce.run,
            ExplainInput(proposal=build_proposal()),
            id=f"explain-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            result_type=ExplainResult,
        )


@pytest.mark.timeout(90)
async def test_temporal_retries_an_outage_then_the_model_answers(
    temporal_env: WorkflowEnvironment, flaky: Flaky
) -> None:
    sink = InMemoryUsageSink()

    result = await run_explain(temporal_env, activities("explain=fake:flaky", sink))

    assert result.explanation.source == "model"
    assert [(r.call_ok, r.task_ok) for r in sink.records] == [(False, False), (True, True)]
    assert flaky.built == 2  # one model built per attempt, no client retries


@pytest.mark.timeout(90)
async def test_temporal_gives_up_on_the_model_at_the_last_attempt(
    temporal_env: WorkflowEnvironment, flaky: Flaky
) -> None:
    flaky.failures = 99
    sink = InMemoryUsageSink()

    result = await run_explain(temporal_env, activities("explain=fake:flaky", sink))

    assert result.explanation.source == "deterministic"
    assert len(sink.records) == 3 and not any(r.call_ok for r in sink.records)
    assert "provider down (build 3)" in result.explanation.rejections[0].reason


@pytest.mark.timeout(90)
async def test_a_draft_is_admitted_recorded_pending_and_its_workflow_started(
    temporal_env: WorkflowEnvironment, ledger: Ledger, tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path,
        temporal_address=temporal_env.client.service_client.config.target_host,
        task_queue=f"drafts-{uuid.uuid4().hex[:8]}",  # no worker: the workflow waits
    )
    sink = PlatformDraftSink(settings, ledger, site.DEFAULT_POLICY, user="ada")
    draft = DraftProposal(
        draft_id=f"copilot-{uuid.uuid4().hex[:8]}",
        action=SetpointChange(
            action_id="a-1", node_id=site.FILL_SETPOINT, from_value=500, to_value=502, unit="g"
        ),
        title="Raise the fill setpoint by 2 g",
        rationale="asked",
        question="raise it",
        model="fake:x",
        created_at=NOW,
    )

    proposal_id = await sink.submit(draft)

    view = ledger.get_proposal(proposal_id)
    assert view is not None and (view.agent, view.status) == ("copilot", "pending")
    handle = temporal_env.client.get_workflow_handle(proposal_id)
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    second = draft.model_copy(update={"draft_id": "copilot-second"})
    with pytest.raises(DraftRefused, match=f"{proposal_id} is still open"):
        await sink.submit(second)
    await handle.terminate("test done")

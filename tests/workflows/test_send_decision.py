"""Delivering a decision while its proposal's workflow is being started: the queue shows a
proposal a moment before its workflow exists, and a decision sent then must wait, not fail."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from factory_agents.errors import ConnectorError, ProposalNotFound, ProposalNotPending
from factory_agents.settings import Settings
from workflows import client as workflow_client

DECISION: Any = SimpleNamespace(proposal_id="p-1")
OUTCOME = object()


class Workflow:
    """A proposal workflow as the decision sees it: unknown to updates for `missing` tries, and
    described as `status` (None: Temporal knows no such workflow)."""

    def __init__(self, missing: int, status: WorkflowExecutionStatus | None) -> None:
        self.missing = missing
        self.status = status
        self.updates = 0

    async def execute_update(self, _update: object, _decision: object) -> object:
        """NOT_FOUND for the first `missing` tries, then the outcome."""
        self.updates += 1
        if self.updates <= self.missing:
            raise RPCError("workflow not found for ID: p-1", RPCStatusCode.NOT_FOUND, b"")
        return OUTCOME

    async def describe(self) -> SimpleNamespace:
        """Its status, or NOT_FOUND."""
        if self.status is None:
            raise RPCError("workflow not found for ID: p-1", RPCStatusCode.NOT_FOUND, b"")
        return SimpleNamespace(status=self.status)


@pytest.fixture
def workflow(monkeypatch: pytest.MonkeyPatch) -> Workflow:
    """The workflow every handle of this test reaches, with a 1 s grace to start."""
    handle = Workflow(missing=1, status=WorkflowExecutionStatus.RUNNING)

    async def connect(_settings: Settings) -> SimpleNamespace:
        return SimpleNamespace(get_workflow_handle=lambda _id: handle)

    monkeypatch.setattr(workflow_client, "connect", connect)
    monkeypatch.setattr(workflow_client, "WORKFLOW_START_GRACE_SECONDS", 1.0)
    return handle


async def test_a_workflow_started_between_the_update_and_the_describe_takes_the_decision(
    workflow: Workflow, tmp_path: Any
) -> None:
    """The race CI met: the update found no workflow, the describe after it found it running."""
    assert await workflow_client.send_decision(Settings(home=tmp_path), DECISION) is OUTCOME
    assert workflow.updates == 2


async def test_a_workflow_not_yet_started_is_waited_for_within_the_grace(
    workflow: Workflow, tmp_path: Any
) -> None:
    workflow.missing, workflow.status = 2, None
    assert await workflow_client.send_decision(Settings(home=tmp_path), DECISION) is OUTCOME
    assert workflow.updates == 3


async def test_a_proposal_that_never_existed_is_named_after_the_grace(
    workflow: Workflow, tmp_path: Any
) -> None:
    workflow.missing, workflow.status = 10**6, None
    with pytest.raises(ProposalNotFound, match="no proposal 'p-1' exists"):
        await workflow_client.send_decision(Settings(home=tmp_path), DECISION)
    assert 2 <= workflow.updates <= 10


async def test_a_closed_workflow_refuses_at_once(workflow: Workflow, tmp_path: Any) -> None:
    workflow.status = WorkflowExecutionStatus.COMPLETED
    with pytest.raises(ProposalNotPending, match="its workflow is completed"):
        await workflow_client.send_decision(Settings(home=tmp_path), DECISION)
    assert workflow.updates == 1


async def test_a_running_workflow_that_never_takes_the_update_is_reported(
    workflow: Workflow, tmp_path: Any
) -> None:
    workflow.missing = 10**6
    with pytest.raises(ConnectorError, match="did not take the decision within 1 s"):
        await workflow_client.send_decision(Settings(home=tmp_path), DECISION)

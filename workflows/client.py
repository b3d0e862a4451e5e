"""How the CLI and the board talk to running workflows: connect, deliver signed decisions,
and wake suspended proposals after the kill switch is turned off."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from factory_agents.errors import (
    ConnectorError,
    ProposalError,
    ProposalNotFound,
    ProposalNotPending,
)
from factory_agents.identity import SignedDecision
from factory_agents.settings import Settings
from workflows.contracts import DecisionOutcome, ProposalResult
from workflows.proposal import ProposalWorkflow
from workflows.tls import temporal_tls

__all__ = ["DecisionOutcome", "connect", "send_decision", "wake_suspended"]

WORKFLOW_START_GRACE_SECONDS = 5.0
"""How long a decision waits for a just-admitted proposal's workflow: the agent run records the
proposal in the ledger (where the queue shows it) a moment before it starts the workflow."""


async def connect(
    settings: Settings, *, runtime: Runtime | None = None, identity: str | None = None
) -> Client:
    """A Temporal client for the platform's namespace, speaking pydantic, over TLS if set."""
    tls = temporal_tls(settings)
    try:
        return await Client.connect(
            settings.temporal_target,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
            tls=tls or False,
            runtime=runtime,
            identity=identity,
        )
    except RuntimeError as err:
        hint = " (and the FACTORY_TEMPORAL_TLS_* files)" if tls else ""
        raise ConnectorError(
            f"cannot reach Temporal at {settings.temporal_target}: {err}."
            f" Is the platform up (`factory-agents up`) or FACTORY_TEMPORAL_ADDRESS{hint} right?"
        ) from err


async def send_decision(settings: Settings, decision: SignedDecision) -> DecisionOutcome:
    """Deliver a signed decision to its proposal's workflow and wait for the outcome."""
    client = await connect(settings)
    proposal_id = decision.proposal_id
    handle: WorkflowHandle[ProposalWorkflow, ProposalResult] = client.get_workflow_handle(
        proposal_id
    )
    deadline = time.monotonic() + WORKFLOW_START_GRACE_SECONDS
    while True:
        try:
            return await handle.execute_update(ProposalWorkflow.sign, decision)
        except WorkflowUpdateFailedError as err:
            cause = err.cause.message if isinstance(err.cause, ApplicationError) else str(err.cause)
            said = cause if proposal_id in cause else f"proposal {proposal_id}: {cause}"
            raise ProposalNotPending(said) from err
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise ConnectorError(
                    f"Temporal refused the decision on {proposal_id}: {err}"
                ) from err
            why = await _not_open(handle, proposal_id)
            starting = why is None or isinstance(why, ProposalNotFound)
            if not starting or time.monotonic() > deadline:
                raise why or _not_taken(proposal_id) from err
        await asyncio.sleep(0.25)  # its workflow is being started


async def wake_suspended(settings: Settings, proposal_ids: list[str]) -> int:
    """Signal `resume` to each suspended proposal's workflow; how many were still running."""
    client = await connect(settings)
    woken = 0
    for proposal_id in proposal_ids:
        handle: WorkflowHandle[ProposalWorkflow, ProposalResult] = client.get_workflow_handle(
            proposal_id
        )
        try:
            await handle.signal(ProposalWorkflow.resume)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise ConnectorError(f"could not wake proposal {proposal_id}: {err}") from err
            continue
        woken += 1
    return woken


async def _not_open(handle: WorkflowHandle[Any, Any], proposal_id: str) -> ProposalError | None:
    """Why a proposal takes no decision: it never existed, or its workflow has closed; None while
    its workflow runs (it started after the decision was sent: send it again)."""
    try:
        description = await handle.describe()
    except RPCError:
        return ProposalNotFound(
            f"no proposal {proposal_id!r} exists; `factory-agents approvals list` shows the"
            " pending ones"
        )
    if description.status == WorkflowExecutionStatus.RUNNING:
        return None
    state = description.status.name.lower() if description.status else "closed"
    return ProposalNotPending(
        f"proposal {proposal_id} is no longer pending (its workflow is {state}: decided,"
        " expired or verified); nothing was done. `factory-agents approvals list --all`"
        " shows its status"
    )


def _not_taken(proposal_id: str) -> ConnectorError:
    """A running workflow that still did not know the decision's update when the grace ran out."""
    return ConnectorError(
        f"the workflow of proposal {proposal_id} runs but did not take the decision within"
        f" {WORKFLOW_START_GRACE_SECONDS:g} s; nothing was decided. Check that a worker runs"
        " (`factory-agents worker`) and send the decision again"
    )

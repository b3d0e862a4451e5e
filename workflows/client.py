"""How the CLI and the board talk to running workflows: connect, and deliver decisions."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from factory_agents.errors import (
    ConnectorError,
    ProposalError,
    ProposalNotFound,
    ProposalNotPending,
)
from factory_agents.settings import Settings
from workflows.contracts import Decision, DecisionOutcome
from workflows.proposal import ProposalWorkflow

__all__ = ["DecisionOutcome", "connect", "send_decision"]


async def connect(settings: Settings) -> Client:
    """A Temporal client for the platform's namespace, speaking pydantic."""
    try:
        return await Client.connect(
            settings.temporal_target,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
        )
    except RuntimeError as err:
        raise ConnectorError(
            f"cannot reach Temporal at {settings.temporal_target}: {err}."
            " Is the platform up (`factory-agents up`) or FACTORY_TEMPORAL_ADDRESS right?"
        ) from err


async def send_decision(
    settings: Settings,
    proposal_id: str,
    *,
    approve: bool,
    user: str,
    reason: str,
    proposal_hash: str | None = None,
) -> DecisionOutcome:
    """Deliver an engineer's decision to the proposal's workflow and wait for its outcome."""
    client = await connect(settings)
    handle = client.get_workflow_handle_for(ProposalWorkflow.run, proposal_id)
    decision = Decision(
        decision="approve" if approve else "reject",
        user=user,
        reason=reason,
        proposal_hash=proposal_hash,
    )
    try:
        return await handle.execute_update(ProposalWorkflow.decide, decision)
    except WorkflowUpdateFailedError as err:
        cause = err.cause.message if isinstance(err.cause, ApplicationError) else str(err.cause)
        raise ProposalNotPending(f"proposal {proposal_id}: {cause}") from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise await _not_open(handle, proposal_id) from err
        raise ConnectorError(f"Temporal refused the decision on {proposal_id}: {err}") from err


async def _not_open(handle: WorkflowHandle[Any, Any], proposal_id: str) -> ProposalError:
    """Why a proposal takes no decision: it never existed, or its workflow has closed."""
    try:
        description = await handle.describe()
    except RPCError:
        return ProposalNotFound(
            f"no proposal {proposal_id!r} exists; `factory-agents approvals list` shows the"
            " pending ones"
        )
    state = description.status.name.lower() if description.status else "closed"
    return ProposalNotPending(
        f"proposal {proposal_id} is no longer pending (its workflow is {state}: decided,"
        " expired or verified); nothing was done. `factory-agents approvals list --all`"
        " shows its status"
    )

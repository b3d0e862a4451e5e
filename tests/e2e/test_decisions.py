"""Decisions that must fail clearly and change nothing, against the real server and plant."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from factory_agents.agent import Proposal, SetpointChange
from factory_agents.errors import ProposalNotFound, ProposalNotPending
from factory_agents.site import DEFAULT_POLICY, FILL_SETPOINT, LINE_GOOD, LINE_SCRAP
from tests.factories import build_proposal
from workflows.activities import ticket_for
from workflows.client import DecisionOutcome, send_decision
from workflows.contracts import ProposalInput
from workflows.proposal import ProposalWorkflow

from .conftest import Platform
from .helpers import eventually, live_setpoint

pytestmark = pytest.mark.e2e


async def propose(
    platform: Platform, *, from_value: float = 500.0, to_value: float = 499.0, ttl: float = 600
) -> Proposal:
    """Record a setpoint proposal and start its workflow, as an agent run would."""
    pid = f"p-test-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    proposal = build_proposal(
        pid,
        node_id=FILL_SETPOINT,
        created_at=now,
        counters=(LINE_GOOD, LINE_SCRAP),
        action=SetpointChange(
            action_id=f"a-{pid}", node_id=FILL_SETPOINT, from_value=from_value,
            to_value=to_value, unit="g",
        ),
    )  # fmt: skip
    expires = now + timedelta(seconds=ttl)
    platform.ledger.record_proposal(proposal, run_id=None, expires_at=expires)
    await platform.client.start_workflow(
        ProposalWorkflow.run,
        ProposalInput(
            ticket=ticket_for(proposal, expires),
            policy=DEFAULT_POLICY,
            verification_seconds=platform.settings.verification_seconds,
        ),
        id=pid,
        task_queue=platform.settings.task_queue,
    )
    return proposal


async def decide(
    platform: Platform, proposal_id: str, *, approve: bool, reason: str = "checked"
) -> DecisionOutcome:
    """Send a decision as the board and the CLI do."""
    return await send_decision(
        platform.settings, proposal_id, approve=approve, user="bob", reason=reason
    )


def status_of(platform: Platform, proposal_id: str) -> str:
    """The proposal's status in the ledger."""
    view = platform.ledger.get_proposal(proposal_id)
    assert view is not None
    return view.status


async def test_an_unknown_proposal_is_a_clear_error(platform: Platform) -> None:
    with pytest.raises(ProposalNotFound, match="approvals list"):
        await decide(platform, "p-does-not-exist", approve=True)


async def test_a_rejection_executes_nothing_and_closes_the_proposal(platform: Platform) -> None:
    proposal = await propose(platform)
    outcome = await decide(platform, proposal.proposal_id, approve=False, reason="not now")
    assert outcome.status == "rejected"
    assert status_of(platform, proposal.proposal_id) == "rejected"
    with pytest.raises(ProposalNotPending):
        await decide(platform, proposal.proposal_id, approve=True)
    assert await live_setpoint(platform.settings) == 500.0
    assert platform.ledger.get_action(proposal.action.action_id) is None


async def test_two_approvals_at_once_execute_the_action_once(platform: Platform) -> None:
    proposal = await propose(platform)
    results = await asyncio.gather(
        decide(platform, proposal.proposal_id, approve=True),
        decide(platform, proposal.proposal_id, approve=True),
        return_exceptions=True,
    )
    executed = [r for r in results if isinstance(r, DecisionOutcome)]
    refused = [r for r in results if isinstance(r, ProposalNotPending)]
    assert len(executed) == 1 and len(refused) == 1, results
    assert executed[0].status == "executed"
    assert "already approved" in str(refused[0])
    assert await live_setpoint(platform.settings) == 499.0
    action = platform.ledger.get_action(proposal.action.action_id)
    assert action is not None and action.read_back == 499.0


@pytest.mark.parametrize(
    ("to_value", "why"), [(520.0, "outside its bounds"), (495.0, "exceeds the maximum step")]
)
async def test_a_setpoint_beyond_the_guardrails_cannot_be_approved(
    platform: Platform, to_value: float, why: str
) -> None:
    proposal = await propose(platform, to_value=to_value)
    with pytest.raises(ProposalNotPending, match=why):
        await decide(platform, proposal.proposal_id, approve=True)
    handle = platform.client.get_workflow_handle_for(ProposalWorkflow.run, proposal.proposal_id)
    assert await handle.query(ProposalWorkflow.status) == "pending"
    assert status_of(platform, proposal.proposal_id) == "pending"
    assert await live_setpoint(platform.settings) == 500.0
    assert platform.ledger.get_action(proposal.action.action_id) is None


async def test_a_changed_premise_is_refused_without_writing(platform: Platform) -> None:
    proposal = await propose(platform, from_value=501.0, to_value=500.5)
    outcome = await decide(platform, proposal.proposal_id, approve=True)
    assert outcome.status == "failed"
    assert "premise changed" in outcome.message
    assert status_of(platform, proposal.proposal_id) == "failed"
    assert await live_setpoint(platform.settings) == 500.0


async def test_an_expired_proposal_cannot_be_approved(platform: Platform) -> None:
    proposal = await propose(platform, ttl=1.5)
    await eventually(
        lambda: status_of(platform, proposal.proposal_id) == "expired", within=20, what="expiry"
    )
    with pytest.raises(ProposalNotPending):
        await decide(platform, proposal.proposal_id, approve=True)
    assert await live_setpoint(platform.settings) == 500.0


async def test_a_decision_needs_a_reason(platform: Platform) -> None:
    proposal = await propose(platform)
    with pytest.raises(ProposalNotPending, match="needs a reason"):
        await decide(platform, proposal.proposal_id, approve=True, reason="  ")
    assert status_of(platform, proposal.proposal_id) == "pending"


async def test_a_decision_on_other_content_is_refused(platform: Platform) -> None:
    proposal = await propose(platform)
    with pytest.raises(ProposalNotPending, match="content hash differs"):
        await send_decision(
            platform.settings, proposal.proposal_id, approve=True, user="bob", reason="ok",
            proposal_hash="0" * 64,
        )  # fmt: skip
    assert status_of(platform, proposal.proposal_id) == "pending"

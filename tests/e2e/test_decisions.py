"""Signed decisions that must fail clearly and change nothing, against the real server and plant:
unknown, rejected, twice, at once, beyond the guardrails, changed premise, expired, unsigned,
wrong password, wrong role, wrong area, self-approval, tampered content."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from factory_agents.agent import Proposal, SetpointChange
from factory_agents.errors import (
    AuthenticationError,
    AuthorizationError,
    ProposalError,
    ProposalNotFound,
    ProposalNotPending,
)
from factory_agents.identity import DecisionClaims, Role, load_signing_key, sign
from factory_agents.site import DEFAULT_POLICY, FILL_SETPOINT, LINE_GOOD, LINE_SCRAP
from tests.factories import build_proposal
from workflows.client import send_decision
from workflows.contracts import Decision, DecisionOutcome, ProposalInput
from workflows.proposal import ProposalWorkflow

from .conftest import PASSWORD, Platform
from .helpers import cli, eventually, keep_history, live_setpoint, signed, ticket_for

pytestmark = pytest.mark.e2e


async def propose(
    platform: Platform,
    *,
    from_value: float = 500.0,
    to_value: float = 499.0,
    ttl: float = 600,
    **ticket: Any,
) -> Proposal:
    """Record a setpoint proposal and start its workflow, as an agent run would."""
    proposal, expires = record(platform, from_value=from_value, to_value=to_value, ttl=ttl)
    await start(platform, proposal, expires, **ticket)
    return proposal


def record(
    platform: Platform,
    *,
    from_value: float = 500.0,
    to_value: float = 499.0,
    ttl: float = 600,
    measure_until: datetime | None = None,
) -> tuple[Proposal, datetime]:
    """Record a setpoint proposal in the ledger (the queue shows it); it and its expiry."""
    pid = f"p-test-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    proposal = build_proposal(
        pid,
        node_id=FILL_SETPOINT,
        created_at=now,
        counters=(LINE_GOOD, LINE_SCRAP),
        measure_until=measure_until,
        action=SetpointChange(
            action_id=f"a-{pid}", node_id=FILL_SETPOINT, from_value=from_value,
            to_value=to_value, unit="g",
        ),
    )  # fmt: skip
    expires = now + timedelta(seconds=ttl)
    platform.ledger.record_proposal(proposal, run_id=None, expires_at=expires)
    return proposal, expires


async def start(platform: Platform, proposal: Proposal, expires: datetime, **ticket: Any) -> None:
    """Start the recorded proposal's workflow, as its agent run does right after recording it."""
    await platform.client.start_workflow(
        ProposalWorkflow.run,
        ProposalInput(
            ticket=ticket_for(proposal, expires, **ticket),
            policy=DEFAULT_POLICY,
            verification_seconds=platform.settings.verification_seconds,
        ),
        id=proposal.proposal_id,
        task_queue=platform.settings.task_queue,
    )


def status_of(platform: Platform, proposal_id: str) -> str:
    """The proposal's status in the ledger."""
    view = platform.ledger.get_proposal(proposal_id)
    assert view is not None
    return view.status


async def nothing_happened(platform: Platform, proposal: Proposal) -> None:
    """The proposal is still pending, unsigned, and the plant untouched."""
    assert status_of(platform, proposal.proposal_id) == "pending"
    view = platform.ledger.get_proposal(proposal.proposal_id)
    assert view is not None and view.decisions == []
    assert platform.ledger.get_action(proposal.action.action_id) is None
    assert await live_setpoint(platform.settings) == 500.0


async def test_an_unknown_proposal_is_a_clear_error(platform: Platform) -> None:
    with pytest.raises(ProposalNotFound, match="approvals list"):
        await signed(platform.settings, "p-does-not-exist", proposal_hash="0" * 64)


async def test_a_decision_sent_before_the_workflow_has_started_waits_for_it(
    platform: Platform,
) -> None:
    proposal, expires = record(platform)
    decision = asyncio.create_task(signed(platform.settings, proposal.proposal_id))
    await asyncio.sleep(1.0)
    assert not decision.done()
    await start(platform, proposal, expires)
    outcome = await decision
    assert outcome.status == "executed", outcome.message


async def test_an_approval_is_signed_executed_and_recorded_with_its_signature(
    platform: Platform,
) -> None:
    proposal = await propose(platform)
    outcome = await signed(platform.settings, proposal.proposal_id, user="bob")
    assert outcome.status == "executed", outcome.message
    assert await live_setpoint(platform.settings) == 499.0
    view = platform.ledger.get_proposal(proposal.proposal_id)
    assert view is not None and len(view.decisions) == 1
    signature = view.decisions[0]
    assert (signature.user, signature.full_name, signature.role) == (
        "bob",
        "Bob Engineer",
        "engineer",
    )
    assert signature.method == "signed" and signature.signature and len(signature.signature) == 64
    assert signature.proposal_hash == proposal.content_hash()
    approved = [
        e
        for e in platform.ledger.audit_events(proposal.proposal_id)
        if e.action == "proposal.approved"
    ]
    assert approved and approved[0].details["signature"] == signature.signature


async def test_a_proposal_is_measured_until_its_own_end_of_the_window(
    platform: Platform,
) -> None:
    until = datetime.now(UTC) + timedelta(seconds=platform.settings.verification_seconds + 8)
    proposal, expires = record(platform, measure_until=until)
    await start(platform, proposal, expires)
    outcome = await signed(platform.settings, proposal.proposal_id, user="bob")
    assert outcome.status == "executed", outcome.message
    seconds = float(outcome.message.rsplit("measuring the saving for ", 1)[1].removesuffix(" s"))
    assert seconds > platform.settings.verification_seconds + 4, outcome.message
    verified = await eventually(
        lambda: status_of(platform, proposal.proposal_id) in ("verified", "unmeasured"),
        within=seconds + 30,
        what="the end of the verification window",
    )
    assert verified and datetime.now(UTC) >= until


async def test_a_rejection_executes_nothing_and_closes_the_proposal(platform: Platform) -> None:
    proposal = await propose(platform)
    outcome = await signed(platform.settings, proposal.proposal_id, approve=False, reason="no")
    assert outcome.status == "rejected"
    assert status_of(platform, proposal.proposal_id) == "rejected"
    with pytest.raises(ProposalNotPending):
        await signed(platform.settings, proposal.proposal_id, user="alice")
    assert await live_setpoint(platform.settings) == 500.0
    assert platform.ledger.get_action(proposal.action.action_id) is None
    await keep_history(platform.client, proposal.proposal_id, "proposal-rejected")


async def test_two_approvals_at_once_execute_the_action_once(platform: Platform) -> None:
    proposal = await propose(platform)
    results = await asyncio.gather(
        signed(platform.settings, proposal.proposal_id, user="bob"),
        signed(platform.settings, proposal.proposal_id, user="alice"),
        return_exceptions=True,
    )
    executed = [r for r in results if isinstance(r, DecisionOutcome)]
    refused = [r for r in results if isinstance(r, ProposalNotPending)]
    assert len(executed) == 1 and len(refused) == 1, results
    assert executed[0].status == "executed"
    assert "approved by" in str(refused[0])
    assert await live_setpoint(platform.settings) == 499.0
    action = platform.ledger.get_action(proposal.action.action_id)
    assert action is not None and action.read_back == 499.0


async def test_approve_and_reject_at_once_decide_once(platform: Platform) -> None:
    proposal = await propose(platform)
    results = await asyncio.gather(
        signed(platform.settings, proposal.proposal_id, user="bob"),
        signed(platform.settings, proposal.proposal_id, user="alice", approve=False),
        return_exceptions=True,
    )
    decided = [r for r in results if isinstance(r, DecisionOutcome)]
    refused = [r for r in results if isinstance(r, ProposalNotPending)]
    assert len(decided) == 1 and len(refused) == 1, results
    view = platform.ledger.get_proposal(proposal.proposal_id)
    assert view is not None and len(view.decisions) == 1
    executed = platform.ledger.get_action(proposal.action.action_id) is not None
    assert executed == (view.decisions[0].decision == "approve")
    assert await live_setpoint(platform.settings) == (499.0 if executed else 500.0)


@pytest.mark.parametrize(
    ("to_value", "why"), [(520.0, "outside its bounds"), (495.0, "exceeds the maximum step")]
)
async def test_a_setpoint_beyond_the_guardrails_cannot_be_approved(
    platform: Platform, to_value: float, why: str
) -> None:
    proposal = await propose(platform, to_value=to_value)
    with pytest.raises(ProposalNotPending, match=why):
        await signed(platform.settings, proposal.proposal_id)
    handle = platform.client.get_workflow_handle_for(ProposalWorkflow.run, proposal.proposal_id)
    assert await handle.query(ProposalWorkflow.status) == "pending"
    await nothing_happened(platform, proposal)


async def test_a_changed_premise_is_refused_without_writing(platform: Platform) -> None:
    proposal = await propose(platform, from_value=501.0, to_value=500.5)
    outcome = await signed(platform.settings, proposal.proposal_id)
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
        await signed(platform.settings, proposal.proposal_id)
    assert await live_setpoint(platform.settings) == 500.0
    await keep_history(platform.client, proposal.proposal_id, "proposal-expired")


@pytest.mark.parametrize(
    ("signer", "ticket", "why"),
    [
        ({"user": "mona"}, {}, "no role that may decide proposals"),
        ({"user": "carol"}, {}, "this proposal belongs to site1/line-1"),
        ({"user": "bob"}, {"requested_by": "bob"}, "cannot also approve it \\(four eyes\\)"),
        ({"reason": "  "}, {}, "reason"),
        ({"proposal_hash": "0" * 64}, {}, "content hash differs"),
    ],
    ids=["wrong-role", "wrong-area", "self-approval", "no-reason", "tampered"],
)
async def test_signatures_the_proposal_cannot_take_change_nothing(
    platform: Platform, signer: dict[str, Any], ticket: dict[str, Any], why: str
) -> None:
    proposal = await propose(platform, **ticket)
    with pytest.raises((ProposalError, AuthorizationError), match=why):
        await signed(platform.settings, proposal.proposal_id, **signer)
    await nothing_happened(platform, proposal)


async def test_a_wrong_password_signs_nothing(platform: Platform) -> None:
    proposal = await propose(platform)
    with pytest.raises(AuthenticationError, match="user id or password"):
        await signed(platform.settings, proposal.proposal_id, password="not the password")
    await nothing_happened(platform, proposal)


async def test_the_server_refuses_a_validly_signed_decision_by_a_role_that_may_not_decide(
    platform: Platform,
) -> None:
    """Roles are enforced in the workflow's validator, not only by the CLI and the board."""
    proposal = await propose(platform)
    claims = DecisionClaims(
        proposal_id=proposal.proposal_id, meaning="approve", reason="I manage this line",
        user_id="mona", full_name="Mona Manager", role=Role.MANAGER, areas=("site1",),
        proposal_hash=proposal.content_hash(), signed_at=datetime.now(UTC),
    )  # fmt: skip
    forged = sign(claims, load_signing_key(platform.settings.home))
    with pytest.raises(ProposalNotPending, match="only engineer may approve or reject"):
        await send_decision(platform.settings, forged)
    await nothing_happened(platform, proposal)


async def test_an_unsigned_decision_is_refused(platform: Platform) -> None:
    proposal = await propose(platform)
    handle = platform.client.get_workflow_handle_for(ProposalWorkflow.run, proposal.proposal_id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            ProposalWorkflow.decide, Decision(decision="approve", user="bob", reason="x")
        )
    assert "must be signed" in str(refused.value.cause)
    await nothing_happened(platform, proposal)


async def test_the_cli_asks_for_the_password_and_signs(platform: Platform) -> None:
    proposal = await propose(platform)
    pid = proposal.proposal_id
    args = ("approvals", "approve", pid, "--reason", "drift", "--user", "bob", "--password-stdin")
    code, _out, err = await cli(platform.settings, *args, stdin="wrong password\n")
    assert code == 1 and "user id or password" in err
    await nothing_happened(platform, proposal)
    code, out, err = await cli(platform.settings, *args, stdin=f"{PASSWORD}\n")
    assert code == 0, err
    assert "executed" in out
    assert await live_setpoint(platform.settings) == 499.0

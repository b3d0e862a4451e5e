"""Safety in the running platform: two approvers, the kill switch during an execution, shadow
and autonomous agents, escalation notifications — against the real Temporal server and plant."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from factory_agents.agent import Proposal, SetpointChange
from factory_agents.errors import ProposalNotPending
from factory_agents.ledger.views import AutonomyLevel
from factory_agents.notify import SIGNATURE_HEADER, WebhookNotifier
from factory_agents.site import DEFAULT_POLICY, FILL_SETPOINT, LINE_GOOD, LINE_SCRAP
from tests.factories import build_proposal
from workflows.contracts import ProposalInput
from workflows.proposal import ProposalWorkflow

from .conftest import PASSWORD, Platform
from .helpers import cli, eventually, keep_history, live_setpoint, signed, ticket_for

pytestmark = pytest.mark.e2e


async def propose(
    platform: Platform, *, escalate_after: float | None = None, **ticket: Any
) -> Proposal:
    """Record a 500 → 499 g proposal and start its workflow with the ticket fields given."""
    pid = f"p-safe-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    proposal = build_proposal(
        pid, node_id=FILL_SETPOINT, created_at=now, counters=(LINE_GOOD, LINE_SCRAP),
        action=SetpointChange(
            action_id=f"a-{pid}", node_id=FILL_SETPOINT, from_value=500.0, to_value=499.0,
            unit="g",
        ),
    )  # fmt: skip
    expires = now + timedelta(minutes=10)
    shadow = ticket.get("autonomy") == AutonomyLevel.SHADOW
    platform.ledger.record_proposal(proposal, run_id=None, expires_at=expires, shadow=shadow)
    await platform.client.start_workflow(
        ProposalWorkflow.run,
        ProposalInput(
            ticket=ticket_for(proposal, expires, **ticket),
            policy=DEFAULT_POLICY,
            verification_seconds=platform.settings.verification_seconds,
            escalate_after_seconds=escalate_after,
        ),
        id=pid,
        task_queue=platform.settings.task_queue,
    )
    return proposal


def status_of(platform: Platform, proposal_id: str) -> str:
    """The proposal's status in the ledger."""
    view = platform.ledger.get_proposal(proposal_id)
    assert view is not None
    return view.status


async def test_a_high_risk_action_needs_two_different_approvers(platform: Platform) -> None:
    proposal = await propose(platform, approvers=2)
    pid = proposal.proposal_id

    first = await signed(platform.settings, pid, user="bob")
    assert first.status == "pending"
    assert "waiting for 1 more approver" in first.message
    assert await live_setpoint(platform.settings) == 500.0
    with pytest.raises(ProposalNotPending, match="bob has already approved"):
        await signed(platform.settings, pid, user="bob")

    second = await signed(platform.settings, pid, user="alice")
    assert second.status == "executed", second.message
    assert await live_setpoint(platform.settings) == 499.0
    view = platform.ledger.get_proposal(pid)
    assert view is not None
    assert [(d.user, d.decision) for d in view.decisions] == [
        ("bob", "approve"),
        ("alice", "approve"),
    ]
    await keep_history(platform.client, pid, "proposal-two-approvers")


async def test_the_kill_switch_holds_an_approved_action_until_resume(platform: Platform) -> None:
    settings = platform.settings
    sign_as_bob = ("--user", "bob", "--password-stdin")
    code, out, err = await cli(
        settings, "stop-all", "--reason", "valve inspection", *sign_as_bob, stdin=PASSWORD
    )
    assert code == 0, err
    assert "platform stopped" in out
    assert platform.ledger.control().stopped

    proposal = await propose(platform)
    outcome = await signed(settings, proposal.proposal_id, user="alice")
    assert outcome.status == "suspended"
    assert "held by the kill switch" in outcome.message
    await eventually(
        lambda: status_of(platform, proposal.proposal_id) == "suspended", within=10, what="hold"
    )
    await asyncio.sleep(2)
    assert await live_setpoint(settings) == 500.0, "nothing is written while stopped"
    assert platform.ledger.get_action(proposal.action.action_id) is None

    code, out, err = await cli(
        settings, "resume", "--reason", "inspection done", *sign_as_bob, stdin=PASSWORD
    )
    assert code == 0, err
    assert "1 suspended proposal(s) woken" in out
    await eventually(
        lambda: platform.ledger.get_action(proposal.action.action_id), within=20, what="execution"
    )
    assert await live_setpoint(settings) == 499.0
    actions = [e.action for e in platform.ledger.audit_events("platform")]
    assert actions == ["platform.resumed", "platform.stopped"]
    started = [e for e in platform.ledger.audit_events(proposal.proposal_id)]
    assert [e.action for e in started].count("action.started") == 1, "executed exactly once"
    await keep_history(platform.client, proposal.proposal_id, "proposal-suspended-resumed")


async def test_a_shadow_proposal_records_the_engineers_view_and_executes_nothing(
    platform: Platform,
) -> None:
    proposal = await propose(platform, autonomy=AutonomyLevel.SHADOW)
    assert status_of(platform, proposal.proposal_id) == "shadowed"
    outcome = await signed(platform.settings, proposal.proposal_id, user="bob")
    assert outcome.status == "shadowed"
    assert "nothing was executed" in outcome.message
    view = platform.ledger.get_proposal(proposal.proposal_id)
    assert view is not None and view.status == "shadowed"
    assert [d.decision for d in view.decisions] == ["approve"]
    assert platform.ledger.get_action(proposal.action.action_id) is None
    assert await live_setpoint(platform.settings) == 500.0
    await keep_history(platform.client, proposal.proposal_id, "proposal-shadow")


async def test_an_autonomous_agent_acts_on_low_risk_reversible_actions_alone(
    platform: Platform,
) -> None:
    proposal = await propose(platform, autonomy=AutonomyLevel.AUTONOMOUS, may_run_autonomously=True)
    await eventually(
        lambda: platform.ledger.get_action(proposal.action.action_id), within=20, what="execution"
    )
    assert await live_setpoint(platform.settings) == 499.0
    view = platform.ledger.get_proposal(proposal.proposal_id)
    assert view is not None and view.decision is not None
    assert (view.decision.method, view.decision.user) == ("automatic", "autonomy:spc_drift")
    await keep_history(platform.client, proposal.proposal_id, "proposal-autonomous")


async def test_an_autonomous_agent_still_waits_for_people_on_other_actions(
    platform: Platform,
) -> None:
    proposal = await propose(
        platform, autonomy=AutonomyLevel.AUTONOMOUS, may_run_autonomously=False
    )
    await asyncio.sleep(2)
    assert status_of(platform, proposal.proposal_id) == "pending"
    assert await live_setpoint(platform.settings) == 500.0


class Receiver(BaseHTTPRequestHandler):
    """Keeps every webhook post: its body and signature header."""

    received: ClassVar[list[tuple[bytes, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((body, self.headers.get(SIGNATURE_HEADER, "")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def webhook() -> Iterator[str]:
    """A webhook receiver on a free loopback port; its URL."""
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/factory"
    finally:
        server.shutdown()
        server.server_close()


async def test_new_and_unattended_proposals_are_notified_signed(
    platform: Platform, webhook: str
) -> None:
    platform.activities.notifier = WebhookNotifier(webhook, secret="s3cret")
    proposal = await propose(platform, escalate_after=2)

    def events() -> list[str]:
        return [json.loads(body)["event"] for body, _sig in Receiver.received]

    await eventually(lambda: "escalated" in events(), within=30, what="the escalation")
    assert events()[:2] == ["proposed", "escalated"]
    for body, header in Receiver.received:
        expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert header == f"sha256={expected}"
        assert json.loads(body)["proposal_id"] == proposal.proposal_id
    assert status_of(platform, proposal.proposal_id) == "pending", "escalation decides nothing"
    await keep_history(platform.client, proposal.proposal_id, "proposal-escalated")

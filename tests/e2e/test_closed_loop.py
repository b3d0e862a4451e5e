"""The whole loop: drift on the OPC UA server → proposal → approval → write → realized saving."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.worker import Replayer

from factory_agents.site import DEFAULT_POLICY
from workflows.schedules import ensure_agent_schedules, schedule_id
from workflows.worker import WORKFLOWS

from .conftest import PASSWORD, Platform
from .helpers import cli, cli_json, eventually, keep_history, live_setpoint

pytestmark = pytest.mark.e2e


async def test_drift_is_proposed_approved_executed_and_its_saving_measured(
    platform: Platform,
) -> None:
    settings, ledger = platform.settings, platform.ledger
    await ensure_agent_schedules(platform.client, settings, ["spc_drift"], DEFAULT_POLICY)
    try:
        # 1. The scheduled agent notices the drift and proposes a correction.
        pending = await eventually(
            lambda: ledger.list_proposals("pending"), within=90, what="a drift proposal"
        )
        listed = await cli_json(settings, "approvals", "list")
        assert [p["id"] for p in listed] == [pending[0].id]
        proposal = pending[0].proposal
        explained = await eventually(
            lambda: ledger.explanation(proposal.proposal_id, proposal.content_hash()),
            within=30,
            what="the run's explanation of its proposal",
        )
        assert explained["source"] == "deterministic"  # no model configured
        assert explained["summary"] in listed[0]["explanation"]
        action = proposal.action
        assert proposal.agent == "spc_drift"
        assert action.to_value < action.from_value  # the valve slipped upwards
        assert proposal.estimated_saving.amount > 0
        assert proposal.baseline.value > 0
        handle = platform.client.get_workflow_handle(proposal.proposal_id)
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        assert await live_setpoint(settings) == action.from_value

        # 2. The engineer approves from the CLI; the setpoint is written and reads back.
        sign_as_bob = ("--user", "bob", "--password-stdin")
        code, out, err = await cli(
            settings, "approvals", "approve", proposal.proposal_id, "--reason", "drifting high",
            *sign_as_bob, stdin=PASSWORD,
        )  # fmt: skip
        assert code == 0, err
        assert "executed" in out
        assert await live_setpoint(settings) == pytest.approx(action.to_value)
        assert platform.plant.model.setpoint == pytest.approx(action.to_value)

        # 3. Approving again is refused and executes nothing twice.
        code, _, err = await cli(
            settings, "approvals", "approve", proposal.proposal_id, "--reason", "again",
            *sign_as_bob, stdin=PASSWORD,
        )  # fmt: skip
        assert code == 1
        assert "already approved by bob" in err
        view = ledger.get_proposal(proposal.proposal_id)
        assert view is not None and view.decision is not None
        assert view.decision.user == "bob"
        assert view.action is not None and view.action.status == "executed"

        # 4. After the verification window the realized saving is in the ledger.
        def verified() -> bool:
            current = ledger.get_proposal(proposal.proposal_id)
            return current is not None and current.status == "verified"

        await eventually(verified, within=settings.verification_seconds + 30, what="verification")
        savings = await cli_json(settings, "ledger", "savings")
        (line,) = [s for s in savings if s["proposal_id"] == proposal.proposal_id]
        assert Decimal(line["realized_amount"]) > 0
        assert Decimal(line["estimated_amount"]) == proposal.estimated_saving.amount
        assert ledger.audit_report().ok

        # 5. The recorded history replays deterministically on today's workflow code.
        replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
        await replayer.replay_workflow(await handle.fetch_history())
        await keep_history(platform.client, proposal.proposal_id, "proposal-verified")
    finally:
        with contextlib.suppress(RPCError):
            await platform.client.get_schedule_handle(schedule_id("spc_drift")).delete()

"""A restart of the Temporal server: pending proposals survive it and are approved afterwards.

A file-backed dev server (as `factory-agents up` runs it) with three pending proposals is shut
down, worker and all, and started again on the same database and port; a new worker picks the
proposals up where they waited, and an approval executes exactly one write.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.server import PlantSimulator
from factory_agents.agent import Proposal, SetpointChange
from factory_agents.errors import ProposalNotPending
from factory_agents.identity import install_worker_key, load_signing_key
from factory_agents.ledger import Ledger
from factory_agents.registry import build_agents
from factory_agents.settings import Settings
from factory_agents.site import (
    DEFAULT_POLICY,
    FILL_SETPOINT,
    LINE_GOOD,
    LINE_SCRAP,
    default_agent_configs,
)
from tests.conftest import free_port
from tests.e2e.conftest import SIM_SPEED, add_test_users
from tests.e2e.helpers import live_setpoint, signed, ticket_for
from tests.factories import build_proposal
from workflows.activities import PlantActivities
from workflows.client import connect
from workflows.contracts import ProposalInput
from workflows.devserver import temporal_binary
from workflows.proposal import ProposalWorkflow
from workflows.worker import build_worker, language_activities

pytestmark = [pytest.mark.chaos, pytest.mark.e2e, pytest.mark.timeout(180)]


async def dev_server(port: int, database: Path) -> WorkflowEnvironment:
    """A Temporal dev server on `port` keeping its state in `database`."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        dev_server_database_filename=str(database),
        port=port,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )


@asynccontextmanager
async def worker(settings: Settings, ledger: Ledger) -> AsyncIterator[Client]:
    """A platform worker on the settings' Temporal server; the client it polls with."""
    client = await connect(settings)
    activities = PlantActivities(
        settings, ledger, build_agents(default_agent_configs()), DEFAULT_POLICY
    )
    language = language_activities(settings, activities)
    try:
        async with build_worker(client, settings, activities, language):
            yield client
    finally:
        activities.close()


async def propose(client: Client, settings: Settings, ledger: Ledger, to_value: float) -> Proposal:
    """Record a fill-setpoint proposal and start its workflow, as an agent run does."""
    pid = f"p-chaos-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    proposal = build_proposal(
        pid,
        node_id=FILL_SETPOINT,
        created_at=now,
        counters=(LINE_GOOD, LINE_SCRAP),
        action=SetpointChange(
            action_id=f"a-{pid}", node_id=FILL_SETPOINT, from_value=500.0, to_value=to_value,
            unit="g",
        ),
    )  # fmt: skip
    expires = now + timedelta(minutes=10)
    ledger.record_proposal(proposal, run_id=None, expires_at=expires)
    await client.start_workflow(
        ProposalWorkflow.run,
        ProposalInput(
            ticket=ticket_for(proposal, expires),
            policy=DEFAULT_POLICY,
            verification_seconds=settings.verification_seconds,
        ),
        id=pid,
        task_queue=settings.task_queue,
    )
    return proposal


async def test_pending_proposals_survive_a_temporal_restart_and_are_approved_after_it(
    tmp_path: Path,
) -> None:
    port, database = free_port(), tmp_path / "temporal.db"
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    settings = Settings(
        home=tmp_path,
        temporal_address=f"127.0.0.1:{port}",
        opcua_endpoint=endpoint,
        sim_speed=SIM_SPEED,
        verification_seconds=2,
    )
    install_worker_key(load_signing_key(tmp_path, create=True))
    add_test_users(tmp_path)
    simulator = SimulatorConfig(
        endpoint=endpoint, speed=SIM_SPEED, seed=3, mes_url=settings.mes_url
    )
    async with PlantSimulator(simulator):
        with Ledger.open(settings.ledger_url) as ledger:
            first = await dev_server(port, database)
            try:
                async with worker(settings, ledger) as client:
                    pending = [await propose(client, settings, ledger, v) for v in (499, 498, 497)]
                    for proposal in pending:
                        handle = client.get_workflow_handle(proposal.proposal_id)
                        assert await handle.query(ProposalWorkflow.status) == "pending"
            finally:
                await first.shutdown()

            second = await dev_server(port, database)
            try:
                async with worker(settings, ledger) as client:
                    for proposal in pending:
                        described = await client.get_workflow_handle(
                            proposal.proposal_id
                        ).describe()
                        assert described.status == WorkflowExecutionStatus.RUNNING
                    chosen, *waiting = pending
                    outcome = await signed(settings, chosen.proposal_id, user="bob")
                    assert outcome.status == "executed", outcome.message
                    assert await live_setpoint(settings) == 499.0
                    with pytest.raises(ProposalNotPending, match="approved by bob"):
                        await signed(settings, chosen.proposal_id, user="alice")
                    action = ledger.get_action(chosen.action.action_id)
                    assert action is not None and action.read_back == 499.0
                    for proposal in waiting:
                        view = ledger.get_proposal(proposal.proposal_id)
                        assert view is not None and view.status == "pending"
                    report = ledger.audit_report()
                    assert report.ok and report.events > 0, report.problems
            finally:
                await second.shutdown()

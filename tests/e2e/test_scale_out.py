"""Scaling out: two `factory-agents worker` processes on one task queue share the work, and
when one is killed (SIGKILL, no goodbye) the other finishes it; every action runs once.

One Temporal dev server, one simulated plant and MES, one SQLite ledger (WAL) shared by the
test and both workers. Twenty proposals, each a step of the fill-weight setpoint from the
live value of the step before (so each can only execute once, in order), are approved with
signed decisions; halfway one worker is killed while an approval is in flight.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from connectors.opcua.connector import OpcUaConnector
from connectors.simulator.config import SimulatorConfig
from connectors.simulator.server import PlantSimulator
from factory_agents.agent import Proposal, SetpointChange
from factory_agents.identity import load_signing_key
from factory_agents.ledger import Ledger
from factory_agents.policy_file import POLICY_FILE, load_policy
from factory_agents.settings import Settings
from factory_agents.site import FILL_SETPOINT, LINE_GOOD, LINE_SCRAP
from tests.conftest import free_port
from tests.factories import build_proposal
from workflows.contracts import ProposalInput, ProposalResult
from workflows.proposal import ProposalWorkflow

from .conftest import SIM_SPEED, add_test_users
from .helpers import signed, ticket_for
from .workers import BUSY_POLICY, WorkerProcess, worker_env

pytestmark = [pytest.mark.chaos, pytest.mark.e2e, pytest.mark.timeout(240)]

PROPOSALS = 20
BEFORE_KILL = 14
"""Approvals done while both workers run; the next one is in flight when one is killed."""
START = 500.0
STEP = 0.1
VERIFICATION_SECONDS = 3.0


def target(step: int) -> float:
    """The setpoint after `step` approved changes."""
    return round(START - STEP * step, 1)


@dataclass
class Cluster:
    """The platform under test: settings, ledger, the test's client and both workers."""

    settings: Settings
    ledger: Ledger
    client: Client
    workers: list[WorkerProcess]
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@pytest.fixture
async def cluster(temporal_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Simulator and ledger in this process, two worker processes, all stopped afterwards."""
    home = tmp_path / "home"
    home.mkdir()
    (home / POLICY_FILE).write_text(BUSY_POLICY)
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'ledger.db'}",
        temporal_address=temporal_env.client.service_client.config.target_host,
        task_queue=f"scale-{uuid.uuid4().hex[:8]}",
        opcua_endpoint=endpoint,
    )
    load_signing_key(home, create=True)
    add_test_users(home)
    workers = [
        WorkerProcess(name, tmp_path / f"{name}.log", free_port(), free_port())
        for name in ("worker-a", "worker-b")
    ]
    # Production only: a stop or breakdown of the line would leave a 3 s window without units.
    config = SimulatorConfig(
        endpoint=endpoint, speed=SIM_SPEED, seed=3, mes_url=settings.mes_url,
        scenarios=("production",),
    )  # fmt: skip
    async with PlantSimulator(config):
        with Ledger.open(settings.ledger_url) as ledger:
            try:
                for worker in workers:
                    worker.start(worker_env(settings))
                yield Cluster(settings, ledger, temporal_env.client, workers)
            finally:
                for worker in workers:
                    worker.stop()


async def pollers(client: Client, task_queue: str, kind: TaskQueueType.ValueType) -> set[str]:
    """Identities of the workers polling the task queue for workflow or activity tasks."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=task_queue), task_queue_type=kind
        )
    )
    return {poller.identity for poller in response.pollers}


async def both_polling(cluster: Cluster) -> None:
    """Wait until both workers poll for workflow and activity tasks."""
    names = {w.name for w in cluster.workers}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for worker in cluster.workers:
            assert worker.process is not None and worker.process.poll() is None, (
                f"{worker.name} exited: {worker.log.read_text()[-3000:]}"
            )
        kinds = (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
        seen = [await pollers(cluster.client, cluster.settings.task_queue, k) for k in kinds]
        if all(names <= s for s in seen):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"the workers did not both poll within 90 s: {seen}")


async def propose(cluster: Cluster, step: int) -> Proposal:
    """Record proposal `step` (from the setpoint of the step before) and start its workflow."""
    pid = f"p-scale-{step:02d}-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    proposal = build_proposal(
        pid,
        node_id=FILL_SETPOINT,
        created_at=now,
        counters=(LINE_GOOD, LINE_SCRAP),
        action=SetpointChange(
            action_id=f"a-{pid}", node_id=FILL_SETPOINT, from_value=target(step - 1),
            to_value=target(step), unit="g",
        ),
    )  # fmt: skip
    expires = now + timedelta(minutes=30)
    cluster.ledger.record_proposal(proposal, run_id=None, expires_at=expires)
    await cluster.client.start_workflow(
        ProposalWorkflow.run,
        ProposalInput(
            ticket=ticket_for(proposal, expires),
            policy=load_policy(cluster.settings.home / POLICY_FILE),
            verification_seconds=VERIFICATION_SECONDS,
        ),
        id=pid,
        task_queue=cluster.settings.task_queue,
    )
    return proposal


async def approve(cluster: Cluster, proposal: Proposal) -> str:
    """Approve with bob's signature; the status the workflow answers with."""
    outcome = await signed(cluster.settings, proposal.proposal_id, user="bob")
    return outcome.status


@dataclass(frozen=True)
class Execution:
    """What a proposal's workflow history says about its execute_action activity."""

    worker: str
    attempts: int


async def execution(client: Client, proposal_id: str) -> Execution:
    """Which worker ran the last attempt of execute_action, and how many attempts it took."""
    history = await client.get_workflow_handle(proposal_id).fetch_history()
    scheduled = {
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "execute_action"
    }
    (started,) = [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
    ]
    return Execution(worker=started.identity, attempts=started.attempt)


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """A Prometheus endpoint on 127.0.0.1, as {(sample name, labels): value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, got), v in samples.items() if n == name and wanted <= got)


def setpoint_steps(samples: list[Any]) -> list[float]:
    """The setpoint's history with repeats of one value collapsed: the values it went through."""
    steps: list[float] = []
    for sample in samples:
        value = round(sample.value, 1)
        if not steps or steps[-1] != value:
            steps.append(value)
    return steps


def action_started(ledger: Ledger, proposal_id: str) -> int:
    """How many `action.started` audit events the proposal has."""
    return sum(1 for e in ledger.audit_events(proposal_id) if e.action == "action.started")


async def test_two_workers_share_the_work_and_one_finishes_it_when_the_other_is_killed(
    cluster: Cluster,
) -> None:
    began = time.monotonic()
    await both_polling(cluster)
    proposals = [await propose(cluster, step) for step in range(1, PROPOSALS + 1)]

    for proposal in proposals[:BEFORE_KILL]:
        assert await approve(cluster, proposal) == "executed"
    before = {
        p.proposal_id: await execution(cluster.client, p.proposal_id)
        for p in proposals[:BEFORE_KILL]
    }
    names = {w.name for w in cluster.workers}
    assert {e.worker for e in before.values()} == names, "the work was not spread over both"

    # Both workers count what they did, and the SDK's metrics say who they are.
    for worker in cluster.workers:
        mine = {pid for pid, e in before.items() if e.worker == worker.name}
        assert worker.executed() == mine  # its log says so too, with the proposal ids
        platform = scrape(worker.platform_port)
        outcome = {"kind": "setpoint_change", "outcome": "executed"}
        assert total(platform, "factory_executions_total", **outcome) == len(mine)
        assert total(platform, "factory_worker_info", worker=worker.name) == 1
        sdk = scrape(worker.sdk_port)
        ran = total(
            sdk, "temporal_activity_execution_latency_count",
            activity_type="execute_action", factory_worker=worker.name,
        )  # fmt: skip
        assert ran == len(mine)

    # Kill the worker holding the next proposal as soon as it has recorded its approval: the
    # execution is then about to start or running, on the worker that dies.
    in_flight = proposals[BEFORE_KILL]
    holder = await execution_owner(cluster.client, in_flight.proposal_id)
    victim = next(w for w in cluster.workers if w.name == holder)
    survivor = next(w for w in cluster.workers if w is not victim)
    approval = asyncio.create_task(approve(cluster, in_flight))
    deadline = time.monotonic() + 30
    while not victim.logged(in_flight.proposal_id, "record_decision"):
        assert time.monotonic() < deadline, f"{victim.name} never recorded the approval"
        await asyncio.sleep(0.01)
    victim.kill()
    assert await asyncio.wait_for(approval, timeout=90) == "executed"
    for proposal in proposals[BEFORE_KILL + 1 :]:
        assert await asyncio.wait_for(approve(cluster, proposal), timeout=60) == "executed"

    results = await asyncio.gather(*(result_of(cluster.client, p.proposal_id) for p in proposals))
    assert [r.status for r in results] == ["verified"] * PROPOSALS, results
    executions = {p.proposal_id: await execution(cluster.client, p.proposal_id) for p in proposals}
    after_kill = [executions[p.proposal_id] for p in proposals[BEFORE_KILL + 1 :]]
    assert {e.worker for e in after_kill} == {survivor.name}

    # Every action executed exactly once: one executed action per proposal in the ledger, one
    # audited start per attempt (a second only where the killed worker's attempt was cut off),
    # the plant stepped through each value once, in order, and ended at the last one.
    for proposal in proposals:
        pid = proposal.proposal_id
        action = cluster.ledger.get_action(proposal.action.action_id)
        assert action is not None and action.status == "executed", pid
        view = cluster.ledger.get_proposal(pid)
        assert view is not None and view.status == "verified", (pid, view)
        assert 1 <= action_started(cluster.ledger, pid) <= executions[pid].attempts, pid
    retried = {pid for pid, e in executions.items() if e.attempts > 1}
    assert retried <= {in_flight.proposal_id}  # only the execution the kill cut off
    for pid in set(executions) - retried:
        assert action_started(cluster.ledger, pid) == 1, pid
    executed_by_log = Counter(pid for w in cluster.workers for pid in w.executed())
    assert set(executed_by_log.values()) == {1}, executed_by_log  # never written twice
    unlogged = {p.proposal_id for p in proposals} - set(executed_by_log)
    assert unlogged <= retried  # only a write the victim made before it could log it
    async with OpcUaConnector(cluster.settings.opcua_endpoint) as plant:
        history = await plant.history(FILL_SETPOINT, cluster.started_at, datetime.now(UTC))
        (live,) = await plant.read([FILL_SETPOINT])
    steps = setpoint_steps(history)
    assert steps[steps[0] == START :] == [target(step) for step in range(1, PROPOSALS + 1)]
    assert live.value == target(PROPOSALS)

    # The survivor's counters and logs account for what it did, with ids on every line.
    survivor_did = {pid for pid, e in executions.items() if e.worker == survivor.name}
    assert survivor_did - retried <= survivor.executed() <= survivor_did
    outcome = {"kind": "setpoint_change", "outcome": "executed"}
    assert total(scrape(survivor.platform_port), "factory_executions_total", **outcome) == len(
        survivor.executed()
    )
    for line in survivor.lines():
        if line.get("activity") == "execute_action":
            assert {"time", "level", "logger", "worker", "workflow_id", "run_id", "attempt"} <= set(
                line
            )
            assert line["worker"] == survivor.name and line["proposal_id"] == line["workflow_id"]
    assert time.monotonic() - began < 150


async def execution_owner(client: Client, proposal_id: str) -> str | None:
    """The worker that completed the workflow's latest task (it holds it in its cache)."""
    history = await client.get_workflow_handle(proposal_id).fetch_history()
    started = [
        e.workflow_task_started_event_attributes.identity
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
    ]
    return started[-1] if started else None


async def result_of(client: Client, proposal_id: str) -> ProposalResult:
    """The workflow's result, once it has measured the saving."""
    handle: WorkflowHandle[ProposalWorkflow, ProposalResult] = client.get_workflow_handle(
        proposal_id, result_type=ProposalResult
    )
    return await asyncio.wait_for(handle.result(), timeout=120)

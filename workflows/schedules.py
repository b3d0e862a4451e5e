"""One Temporal Schedule per agent, starting an AgentRunWorkflow at the agent's cadence."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.service import RPCError

from factory_agents.policy import Policy
from factory_agents.settings import Settings
from workflows.agent_run import AgentRunWorkflow
from workflows.contracts import AgentRunInput


def schedule_id(agent: str) -> str:
    """The schedule id of an agent."""
    return f"agent-{agent}"


async def ensure_agent_schedules(
    client: Client, settings: Settings, agents: Iterable[str], policy: Policy
) -> list[str]:
    """Create (or re-create with current settings) each agent's schedule and trigger it once."""
    ids = []
    for agent in agents:
        sid = schedule_id(agent)
        with contextlib.suppress(RPCError):  # no such schedule yet
            await client.get_schedule_handle(sid).delete()
        action = ScheduleActionStartWorkflow(
            AgentRunWorkflow.run,
            AgentRunInput(
                agent=agent,
                policy=policy,
                verification_seconds=settings.verification_seconds,
                escalate_after_seconds=settings.escalate_after_seconds,
            ),
            id=f"agent-run-{agent}",
            task_queue=settings.task_queue,
            execution_timeout=timedelta(minutes=5),
        )
        spec = ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(every=timedelta(seconds=settings.agent_interval_seconds))
            ]
        )
        policy_ = SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP)
        await client.create_schedule(
            sid, Schedule(action=action, spec=spec, policy=policy_), trigger_immediately=True
        )
        ids.append(sid)
    return ids


async def pause_agent_schedules(client: Client, *, paused: bool, note: str) -> list[str]:
    """Pause (or unpause) every agent schedule; the ids of the schedules changed."""
    changed = []
    async for listed in await client.list_schedules():
        if not listed.id.startswith("agent-"):
            continue
        handle = client.get_schedule_handle(listed.id)
        if paused:
            await handle.pause(note=note)
        else:
            await handle.unpause(note=note)
        changed.append(listed.id)
    return changed

"""What every catalog loop test needs: an agent's schedule for the test, its pending and its
verified proposals."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from temporalio.service import RPCError

from factory_agents.ledger import ProposalView
from factory_agents.site import DEFAULT_POLICY
from workflows.schedules import ensure_agent_schedules, schedule_id

from .conftest import Platform


def pending_of(platform: Platform, agent: str) -> ProposalView | None:
    """The agent's first pending proposal, if it has made one."""
    return next((v for v in platform.ledger.list_proposals("pending") if v.agent == agent), None)


def verified(platform: Platform, proposal_id: str) -> ProposalView | None:
    """The proposal once its realized saving is recorded."""
    view = platform.ledger.get_proposal(proposal_id)
    return view if view is not None and view.status == "verified" else None


@contextlib.asynccontextmanager
async def scheduled(platform: Platform, agent: str) -> AsyncIterator[None]:
    """The agent's schedule for the test, deleted afterwards."""
    await ensure_agent_schedules(platform.client, platform.settings, [agent], DEFAULT_POLICY)
    try:
        yield
    finally:
        with contextlib.suppress(RPCError):
            await platform.client.get_schedule_handle(schedule_id(agent)).delete()

"""The kill switch: stop every agent and execution within seconds, and resume them, audited.

Stopping sets the ledger's control flag (agents' runs withhold proposals and executions
refuse to start from that moment), then pauses every agent schedule so no new run starts.
Resuming clears the flag, unpauses the schedules and wakes every suspended proposal, which
then executes after checking its premise against the live plant again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from factory_agents.ledger.repository import Ledger
from factory_agents.ledger.views import ProposalStatus
from factory_agents.settings import Settings
from workflows.client import connect, wake_suspended
from workflows.schedules import pause_agent_schedules


@dataclass(frozen=True)
class ControlReport:
    """What stopping or resuming changed."""

    changed: bool
    schedules: list[str]
    woken: int = 0


async def stop_all(settings: Settings, *, actor: str, reason: str) -> ControlReport:
    """Put the platform in read-only mode: no proposals, no executions, schedules paused."""
    ledger = Ledger.open(settings.ledger_url)
    try:
        changed = await asyncio.to_thread(ledger.set_control, "stopped", actor=actor, reason=reason)
    finally:
        ledger.close()
    client = await connect(settings)
    paused = await pause_agent_schedules(client, paused=True, note=f"stop-all by {actor}: {reason}")
    return ControlReport(changed=changed, schedules=paused)


async def resume(settings: Settings, *, actor: str, reason: str) -> ControlReport:
    """Leave read-only mode: schedules run again, suspended proposals execute."""
    ledger = Ledger.open(settings.ledger_url)
    try:
        changed = await asyncio.to_thread(ledger.set_control, "running", actor=actor, reason=reason)
        suspended = await asyncio.to_thread(ledger.list_proposals, ProposalStatus.SUSPENDED)
    finally:
        ledger.close()
    client = await connect(settings)
    unpaused = await pause_agent_schedules(
        client, paused=False, note=f"resume by {actor}: {reason}"
    )
    woken = await wake_suspended(settings, [view.id for view in suspended])
    return ControlReport(changed=changed, schedules=unpaused, woken=woken)

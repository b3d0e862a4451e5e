"""Helpers for end-to-end tests: polling, the CLI as a subprocess, reading the plant."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import Client

from connectors.opcua.connector import OpcUaConnector
from factory_agents.agent import Proposal
from factory_agents.ledger import Ledger
from factory_agents.settings import Settings
from factory_agents.site import FILL_SETPOINT
from workflows.contracts import DecisionOutcome, ProposalTicket
from workflows.decisions import decide

T = TypeVar("T")


async def eventually(probe: Callable[[], T | None], within: float, what: str) -> T:
    """Poll `probe` every half second until it returns something truthy, or fail saying what."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = await asyncio.to_thread(probe)
        if result:
            return result
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {within:g} s")


def platform_env(settings: Settings) -> dict[str, str]:
    """This process's environment without FACTORY_* variables, plus where the platform under test
    is: for the worker and board processes a test starts."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FACTORY_")}
    return inherited | {
        "FACTORY_HOME": str(settings.home),
        "FACTORY_DATABASE_URL": settings.ledger_url,
        "FACTORY_TEMPORAL_ADDRESS": settings.temporal_target,
        "FACTORY_TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "FACTORY_TASK_QUEUE": settings.task_queue,
        "FACTORY_OPCUA_ENDPOINT": settings.opcua_endpoint,
        "FACTORY_MES_DATABASE_URL": settings.mes_url,
    }


def cli_env(settings: Settings) -> dict[str, str]:
    """Environment that points the CLI at the platform under test."""
    return {
        "FACTORY_HOME": str(settings.home),
        "FACTORY_DATABASE_URL": settings.ledger_url,
        "FACTORY_TEMPORAL_ADDRESS": settings.temporal_target,
        "FACTORY_TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "FACTORY_TASK_QUEUE": settings.task_queue,
        "FACTORY_USER": "alice",
    }


async def cli(settings: Settings, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run `factory-agents ARGS` as a user would (typing `stdin`); exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "factory_agents", *args,
        env=cli_env(settings) | {"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    typed = stdin.encode() if stdin is not None else None
    out, err = await asyncio.wait_for(process.communicate(typed), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def cli_json(settings: Settings, *args: str) -> Any:
    """Run a CLI command with --json and parse its output."""
    code, out, err = await cli(settings, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def cli_json_now(settings: Settings, *args: str) -> Any:
    """The same as cli_json, blocking: for probes that `eventually` runs in a thread."""
    done = subprocess.run(
        [sys.executable, "-m", "factory_agents", *args, "--json"],
        env=cli_env(settings) | {"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


async def live_setpoint(settings: Settings) -> float:
    """The fill-weight setpoint as the OPC UA server reports it now."""
    async with OpcUaConnector(settings.opcua_endpoint) as plant:
        (sample,) = await plant.read([FILL_SETPOINT])
    return sample.value


def board_health(port: int) -> bool:
    """True when the Streamlit board answers its health check."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def ticket_for(proposal: Proposal, expires_at: datetime, **overrides: Any) -> ProposalTicket:
    """The ticket an agent run would give this proposal (area site1/<line>, one approver)."""
    fields: dict[str, Any] = {
        "proposal_id": proposal.proposal_id,
        "agent": proposal.agent,
        "title": proposal.title,
        "content_hash": proposal.content_hash(),
        "action": proposal.action,
        "counters": proposal.counters,
        "estimated_amount": proposal.estimated_saving.amount,
        "currency": proposal.estimated_saving.currency,
        "expires_at": expires_at,
        "area": f"site1/{proposal.line}",
        "requested_by": proposal.agent,
        "measure_until": proposal.measure_until,
    }
    return ProposalTicket(**(fields | overrides))


async def signed(
    settings: Settings,
    proposal_id: str,
    *,
    user: str = "bob",
    approve: bool = True,
    reason: str = "checked the evidence",
    password: str = "correct horse battery",
    proposal_hash: str | None = None,
) -> DecisionOutcome:
    """Sign and send a decision as the CLI and the board do (the ledger's content by default)."""
    if proposal_hash is None:
        with Ledger.open(settings.ledger_url) as ledger:
            view = ledger.get_proposal(proposal_id)
        proposal_hash = view.content_hash if view is not None else "0" * 64
    return await decide(
        settings, proposal_id=proposal_id, meaning="approve" if approve else "reject",
        user_id=user, password=password, reason=reason, proposal_hash=proposal_hash,
    )  # fmt: skip


HISTORIES = Path(__file__).resolve().parents[1] / "histories"
"""Recorded workflow histories that tests/workflows/test_replay.py replays on today's code."""


async def keep_history(client: Client, workflow_id: str, name: str) -> None:
    """Save the workflow's history as tests/histories/NAME.json when recording is asked for.

    Run the e2e tests with FACTORY_RECORD_HISTORIES=1 to record them again, deliberately,
    after a change that is meant to change what workflows do (and patch the workflow).
    """
    if os.environ.get("FACTORY_RECORD_HISTORIES") != "1":
        return
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(history.to_json())

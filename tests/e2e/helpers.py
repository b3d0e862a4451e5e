"""Helpers for end-to-end tests: polling, the CLI as a subprocess, reading the plant."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from connectors.opcua.connector import OpcUaConnector
from factory_agents.settings import Settings
from factory_agents.site import FILL_SETPOINT

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


def cli_env(settings: Settings) -> dict[str, str]:
    """Environment that points the CLI at the platform under test."""
    return {
        "FACTORY_HOME": str(settings.home),
        "FACTORY_DATABASE_URL": settings.ledger_url,
        "FACTORY_TEMPORAL_ADDRESS": settings.temporal_target,
        "FACTORY_TASK_QUEUE": settings.task_queue,
        "FACTORY_USER": "alice",
    }


async def cli(settings: Settings, *args: str) -> tuple[int, str, str]:
    """Run `factory-agents ARGS` as a user would; returns exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "factory_agents", *args,
        env=cli_env(settings) | {"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
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

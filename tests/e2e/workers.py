"""Platform workers as subprocesses (`python -m factory_agents worker`), told where everything is
by environment, logging JSON lines to a file each, and killed by PID when a test says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory_agents.settings import Settings
from factory_agents.site import FILL_SETPOINT

from .helpers import platform_env


@dataclass
class WorkerProcess:
    """One worker subprocess, logging JSON lines to a file."""

    name: str
    log: Path
    sdk_port: int
    platform_port: int
    arguments: tuple[str, ...] = ("-m", "factory_agents", "worker")
    """What the Python interpreter runs: the platform's worker, or a test's own."""
    process: subprocess.Popen[bytes] | None = None
    killed: bool = False

    def start(self, env: dict[str, str]) -> None:
        """Start it in its own session, as `up` does (again after a kill: a new process)."""
        ports = {"FACTORY_METRICS_PORT": str(self.sdk_port)}
        ports["FACTORY_PLATFORM_METRICS_PORT"] = str(self.platform_port)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, *self.arguments],
                env=env | ports | {"FACTORY_WORKER_NAME": self.name},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        """Its process id."""
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL, by PID: no shutdown, no goodbye to Temporal."""
        os.kill(self.pid, signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=10)
        self.killed = True

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s, if it still runs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def lines(self) -> list[dict[str, Any]]:
        """Its log as JSON objects (every line must be one)."""
        text = self.log.read_text(errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def logged(self, proposal_id: str, activity: str) -> bool:
        """Whether it has logged the activity for the proposal (while it may be writing)."""
        for raw in self.log.read_text(errors="replace").splitlines():
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                continue  # a line still being written
            if line.get("proposal_id") == proposal_id and line.get("activity") == activity:
                return True
        return False

    def executed(self) -> set[str]:
        """Proposals whose action this worker executed (not `already_applied`), per its log."""
        return {
            line["proposal_id"]
            for line in self.lines()
            if line.get("activity") == "execute_action" and " executed: " in line["message"]
        }


def worker_env(settings: Settings) -> dict[str, str]:
    """What every worker is told: the platform under test, and to log JSON lines."""
    return platform_env(settings) | {"FACTORY_LOG_FORMAT": "json"}


BUSY_POLICY = f"""
[rate_limits]
proposals_per_agent_per_hour = 1000
actions_per_subject_per_hour = 1000

[[setpoints]]
node_id = "{FILL_SETPOINT}"
unit = "g"
minimum = 490.0
maximum = 510.0
max_step = 4.0
min_interval_seconds = 0
"""
"""Guardrails for a test that changes the fill setpoint many times a minute (policy.toml)."""

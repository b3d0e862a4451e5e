"""`factory-agents up`: bring the whole platform up on one machine and say where it is."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from urllib.parse import urlparse

from rich.table import Table

from factory_agents.errors import ConfigurationError
from factory_agents.settings import Settings
from factory_agents.supervisor import Supervisor


def opcua_port(endpoint: str) -> int:
    """The TCP port of an opc.tcp:// endpoint."""
    port = urlparse(endpoint).port
    if port is None:
        raise ConfigurationError(f"the OPC UA endpoint {endpoint!r} names no port; add one")
    return port


FIRST_LOGIN = "first-login.txt"
"""Where `up` leaves the first engineer's generated password (readable by the owner only)."""


async def create_schedules(settings: Settings) -> list[str]:
    """Create (or refresh) one schedule per agent of the default site; paused if stopped."""
    from factory_agents.ledger.repository import Ledger
    from factory_agents.site import default_agent_configs
    from workflows.client import connect
    from workflows.schedules import ensure_agent_schedules, pause_agent_schedules

    client = await connect(settings)
    ids = await ensure_agent_schedules(client, settings, default_agent_configs(), settings.policy())
    control = Ledger.open(settings.ledger_url).control()
    if control.stopped:
        await pause_agent_schedules(client, paused=True, note=f"stopped: {control.reason}")
    return ids


def first_engineer(settings: Settings) -> Path | None:
    """On a fresh home, create the engineer 'engineer' with a generated password, kept in a
    file only its owner can read; returns that file (None when users exist already)."""
    from factory_agents.identity import Role, UsersFile

    users = UsersFile.in_home(settings.home)
    if users.list_users():
        return None
    password = secrets.token_urlsafe(12)
    users.add_user(
        "engineer",
        full_name="First Engineer",
        roles=(Role.ENGINEER,),
        areas=(settings.site,),
        password=password,
    )
    path = settings.home / FIRST_LOGIN
    path.touch(mode=0o600)
    path.write_text(
        f"user: engineer\npassword: {password}\n"
        "Change it with `factory-agents users passwd engineer`; add people with"
        " `factory-agents users add`.\n"
    )
    return path


def start_platform(settings: Settings, supervisor: Supervisor, *, board: bool) -> None:
    """Start ledger, Temporal, simulator, worker, schedules and board; print their addresses."""
    from factory_agents.identity import load_signing_key
    from factory_agents.ledger.repository import Ledger
    from workflows.devserver import port_is_open, start_dev_server, wait_for_port

    console = supervisor.console
    settings.home.mkdir(parents=True, exist_ok=True)
    logs = supervisor.logs
    logs.mkdir(parents=True, exist_ok=True)
    with console.status("Migrating the ledger ..."):
        Ledger.open(settings.ledger_url)
    load_signing_key(settings.home, create=True)
    first_login = first_engineer(settings)
    if settings.temporal_address is None:
        with console.status("Starting the Temporal dev server ..."):
            log = logs / "temporal.log"
            supervisor.adopt("temporal", start_dev_server(settings, log), log)
    port = opcua_port(settings.opcua_endpoint)
    if port_is_open(port):
        raise ConfigurationError(
            f"port {port} of {settings.opcua_endpoint} is taken; stop what runs there or set"
            " FACTORY_OPCUA_ENDPOINT to a free port"
        )
    with console.status("Starting the simulated plant ..."):
        sim = supervisor.spawn("simulator", ["simulate"])
        wait_for_port(port, timeout=60, process=sim.process)
    supervisor.spawn("worker", ["worker"])
    with console.status("Creating the agent schedules ..."):
        schedules = asyncio.run(create_schedules(settings))
    if board:
        with console.status("Starting the board ..."):
            b = supervisor.spawn("board", ["board"])
            wait_for_port(settings.board_port, timeout=60, process=b.process)
    table = Table("what", "where", title="factory-agents is up", title_justify="left")
    if board:
        table.add_row("Board (savings, approvals)", f"http://127.0.0.1:{settings.board_port}")
    if settings.temporal_address is None:
        table.add_row("Temporal Web UI", f"http://127.0.0.1:{settings.temporal_ui_port}")
    table.add_row("Temporal frontend", settings.temporal_target)
    table.add_row("Simulated plant (OPC UA)", settings.opcua_endpoint)
    table.add_row("Ledger", settings.ledger_url)
    table.add_row("Agent schedules", ", ".join(schedules))
    table.add_row("Logs", str(logs.resolve()))
    if first_login is not None:
        table.add_row("First login", f"user 'engineer', password in {first_login.resolve()}")
    console.print(table)
    console.print(
        "Approve from a shell: [bold]factory-agents approvals list[/bold], then"
        " [bold]factory-agents approvals approve ID --user engineer --reason '...'[/bold]"
        " (asks for the password). Ctrl-C stops everything."
    )

"""The `factory-agents` command: the composition root; it imports the other packages lazily."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from factory_agents.commands.agents import agents_app
from factory_agents.commands.approvals import approvals_app
from factory_agents.commands.ask import ask_command
from factory_agents.commands.audit import audit_app
from factory_agents.commands.connectors import connectors_app
from factory_agents.commands.control import resume, stop_all
from factory_agents.commands.evals import eval_command
from factory_agents.commands.init import init_command
from factory_agents.commands.ledger import ledger_app
from factory_agents.commands.opcua import opcua_app
from factory_agents.commands.schedule import schedule_app
from factory_agents.commands.users import users_app
from factory_agents.errors import FactoryAgentsError
from factory_agents.settings import Settings

app = typer.Typer(help="factory-agents: plant agents that propose, act after approval, measure.")
app.add_typer(approvals_app, name="approvals")
app.add_typer(ledger_app, name="ledger")
app.add_typer(agents_app, name="agents")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(schedule_app, name="schedule")
app.add_typer(connectors_app, name="connectors")
app.add_typer(opcua_app, name="opcua")
app.command("stop-all")(stop_all)
app.command("resume")(resume)
app.command("ask")(ask_command)
app.command("eval")(eval_command)
app.command("init")(init_command)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


def main() -> None:
    """Run the CLI; platform errors become one red line and exit code 1."""
    try:
        app()
    except FactoryAgentsError as err:
        errors.print(f"[red]error:[/red] {err}")
        _exit_now(1)
    except SystemExit as done:
        if isinstance(done.code, str):
            errors.print(done.code)
        _exit_now(done.code if isinstance(done.code, int) else 0 if done.code is None else 1)
    _exit_now(0)


def _exit_now(code: int) -> NoReturn:
    """Exit with `code` once output is flushed, skipping interpreter finalization.

    The Temporal client's Rust threads can abort a finalizing interpreter (SIGABRT, "PyGILState_
    Release", temporalio/sdk-python#300), which turned a command that had done its work into a
    failure. Everything the CLI writes is committed or flushed before this point.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def _run_until_signalled(body: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run an async body that stops when SIGINT or SIGTERM sets its event."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await body(stop)

    asyncio.run(runner())


@app.command()
def up(
    headless: Annotated[bool, typer.Option(help="Do not start the board")] = False,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds")] = None,
) -> None:
    """Start dev server, simulated plant, worker, schedules and (unless headless) the board."""
    from factory_agents.platform import start_platform
    from factory_agents.supervisor import Supervisor

    settings = Settings()
    supervisor = Supervisor(logs=settings.home / "logs", console=console)
    supervisor.trap_signals()
    try:
        start_platform(settings, supervisor, board=not headless)
        supervisor.wait(duration)
    except KeyboardInterrupt:
        console.print("Stopping ...")
    finally:
        supervisor.stop_all()


@app.command()
def worker(
    name: Annotated[
        str | None,
        typer.Option(help="Its name in Temporal, logs and metrics (FACTORY_WORKER_NAME)"),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Serve Temporal SDK metrics here (FACTORY_METRICS_PORT)"
        ),
    ] = None,
    platform_metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Serve the platform's metrics here (default: metrics port + 1)"
        ),
    ] = None,
) -> None:
    """Run a worker: the workflows and the plant activities (run as many as you need)."""
    from workflows.worker import run_worker

    given = {
        "worker_name": name,
        "metrics_port": metrics_port,
        "platform_metrics_port": platform_metrics_port,
    }
    settings = Settings().model_copy(update={k: v for k, v in given.items() if v is not None})
    _run_until_signalled(lambda stop: run_worker(settings, stop))


@app.command()
def simulate() -> None:
    """Run the simulated plant: OPC UA server and MES database."""
    from connectors.simulator.config import SimulatorConfig
    from connectors.simulator.server import PlantSimulator
    from factory_agents.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_format, level=settings.log_level)

    async def body(stop: asyncio.Event) -> None:
        config = SimulatorConfig(
            endpoint=settings.opcua_endpoint,
            speed=settings.sim_speed,
            seed=settings.sim_seed,
            mes_url=settings.mes_url,
            state_file=settings.home / "plant-state.json",
        )
        async with PlantSimulator(config):
            console.print(f"simulated plant on {settings.opcua_endpoint} (speed x{config.speed:g})")
            await stop.wait()

    settings.home.mkdir(parents=True, exist_ok=True)
    _run_until_signalled(body)


@app.command()
def board() -> None:
    """Run the Streamlit board."""
    from streamlit.web import cli as streamlit_cli

    import dashboards

    settings = Settings()
    script = Path(dashboards.__file__).parent / "app.py"
    sys.argv = [
        "streamlit", "run", str(script),
        "--server.headless", "true",
        "--server.address", settings.board_address,
        "--server.port", str(settings.board_port),
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    streamlit_cli.main()


@app.command()
def schedules() -> None:
    """Create or refresh the agent schedules (done by `up`; for a cluster, run once per deploy)."""
    from factory_agents.platform import create_schedules

    for schedule_id in asyncio.run(create_schedules(Settings())):
        console.print(f"schedule {schedule_id} created")

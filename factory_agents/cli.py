"""The `factory-agents` command: the composition root; it imports the other packages lazily."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from factory_agents.errors import FactoryAgentsError
from factory_agents.settings import Settings

app = typer.Typer(help="factory-agents: plant agents that propose, act after approval, measure.")
approvals = typer.Typer(help="The approval queue: list, approve, reject.")
ledger_app = typer.Typer(help="What the ledger knows: savings.")
agents_app = typer.Typer(help="The installed agents.")
audit_app = typer.Typer(help="The hash-chained audit trail.")
app.add_typer(approvals, name="approvals")
app.add_typer(ledger_app, name="ledger")
app.add_typer(agents_app, name="agents")
app.add_typer(audit_app, name="audit")
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

ReasonOption = Annotated[str, typer.Option("--reason", help="Why; recorded with the decision")]
UserOption = Annotated[
    str | None, typer.Option("--user", help="Who decides (default: $FACTORY_USER)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def main() -> None:
    """Run the CLI; platform errors become one red line and exit code 1."""
    try:
        app()
    except FactoryAgentsError as err:
        errors.print(f"[red]error:[/red] {err}")
        sys.exit(1)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


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
def worker() -> None:
    """Run a worker: the workflows and the plant activities."""
    from workflows.worker import run_worker

    _run_until_signalled(lambda stop: run_worker(Settings(), stop))


@app.command()
def simulate() -> None:
    """Run the simulated plant: OPC UA server and MES database."""
    from connectors.simulator.config import SimulatorConfig
    from connectors.simulator.server import PlantSimulator

    settings = Settings()

    async def body(stop: asyncio.Event) -> None:
        config = SimulatorConfig(
            endpoint=settings.opcua_endpoint,
            speed=settings.sim_speed,
            seed=settings.sim_seed,
            mes_url=settings.mes_url,
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


@agents_app.command("list")
def agents_list(as_json: JsonOption = False) -> None:
    """The installed agents and what they do."""
    from factory_agents.registry import agent_specs

    specs = agent_specs().values()
    if as_json:
        keys = ("name", "version", "domain", "risk", "description")
        _print_json([{k: str(getattr(s, k)) for k in keys} for s in specs])
        return
    table = Table("agent", "version", "domain", "risk", "description")
    for s in specs:
        table.add_row(s.name, s.version, s.domain, s.risk, s.description)
    console.print(table)


def _ledger() -> Any:
    from factory_agents.ledger.repository import Ledger

    return Ledger.open(Settings().ledger_url)


@approvals.command("list")
def approvals_list(
    as_json: JsonOption = False,
    show_all: Annotated[bool, typer.Option("--all", help="Include decided proposals")] = False,
) -> None:
    """Pending proposals (or all, with --all), most valuable first."""
    views = _ledger().list_proposals(None if show_all else "pending")
    if as_json:
        _print_json([v.model_dump(mode="json", exclude={"proposal": {"evidence"}}) for v in views])
        return
    if not views:
        console.print("No proposals are waiting for a decision.")
        return
    now = datetime.now(UTC)
    table = Table()
    table.add_column("id", no_wrap=True)  # engineers copy it into `approvals approve`
    table.add_column("status")
    table.add_column("proposal", ratio=1)
    table.add_column("estimated saving", no_wrap=True, justify="right")
    table.add_column("expires in", no_wrap=True, justify="right")
    for v in sorted(views, key=lambda v: v.estimated_amount, reverse=True):
        left = max(0, int((v.expires_at - now).total_seconds() // 60))
        saving = f"{v.estimated_amount} {v.currency}"
        table.add_row(v.id, v.status, v.title, saving, f"{left} min")
    console.print(table)


def _decide(proposal_id: str, *, approve: bool, reason: str, user: str | None) -> None:
    from factory_agents.errors import ProposalNotFound
    from workflows.client import send_decision

    view = _ledger().get_proposal(proposal_id)
    if view is None:
        raise ProposalNotFound(
            f"no proposal {proposal_id!r} in the ledger; `factory-agents approvals list` shows ids"
        )
    who = user or os.environ.get("FACTORY_USER") or getpass.getuser()
    outcome = asyncio.run(
        send_decision(
            Settings(), proposal_id, approve=approve, user=who, reason=reason,
            proposal_hash=view.content_hash,
        )
    )  # fmt: skip
    console.print(f"{outcome.proposal_id}: {outcome.message}")
    if outcome.status == "failed":
        raise typer.Exit(1)


@approvals.command("approve")
def approvals_approve(proposal_id: str, reason: ReasonOption, user: UserOption = None) -> None:
    """Approve a pending proposal; returns once it has been executed (or refused)."""
    _decide(proposal_id, approve=True, reason=reason, user=user)


@approvals.command("reject")
def approvals_reject(proposal_id: str, reason: ReasonOption, user: UserOption = None) -> None:
    """Reject a pending proposal; nothing is executed."""
    _decide(proposal_id, approve=False, reason=reason, user=user)


@ledger_app.command("savings")
def ledger_savings(as_json: JsonOption = False) -> None:
    """Estimated and realized savings per proposal (never added together)."""
    lines = _ledger().savings_by_proposal()
    if as_json:
        _print_json([line.model_dump(mode="json") for line in lines])
        return
    table = Table("proposal", "agent", "status", "estimated", "realized")
    for line in lines:
        estimated = f"{line.estimated_amount} {line.currency} / {line.horizon_hours:g} h"
        realized = "not measured yet"
        if line.realized_amount is not None and line.period_hours is not None:
            realized = f"{line.realized_amount} {line.currency} / {line.period_hours * 60:.1f} min"
        table.add_row(line.proposal_id, line.agent, line.status, estimated, realized)
    console.print(table)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain; exit 1 and name the rows if it was tampered with."""
    report = _ledger().audit_report()
    if report.ok:
        console.print(f"audit trail intact: {report.events} events, hash chain verified")
        return
    for problem in report.problems:
        errors.print(f"[red]{problem}[/red]")
    raise typer.Exit(1)

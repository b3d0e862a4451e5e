"""`factory-agents agents`: what is installed, and each agent's autonomy level."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from factory_agents.commands.signin import (
    PasswordStdinOption,
    UserOption,
    authenticated,
    require,
)
from factory_agents.errors import AuthorizationError, ConfigurationError
from factory_agents.identity import Permission
from factory_agents.ledger.views import AutonomyLevel
from factory_agents.settings import Settings

agents_app = typer.Typer(help="The installed agents and their autonomy.")
console = Console(soft_wrap=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


@agents_app.command("list")
def agents_list(as_json: JsonOption = False) -> None:
    """The installed agents: what they do, their risk class and autonomy level."""
    from factory_agents.ledger.repository import Ledger
    from factory_agents.registry import agent_specs

    specs = agent_specs().values()
    ledger = Ledger.open(Settings().ledger_url)
    rows = [
        {
            "name": s.name,
            "version": s.version,
            "domain": str(s.domain),
            "risk": str(s.risk),
            "autonomy": str(ledger.autonomy(s.name)),
            "description": s.description,
        }
        for s in specs
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("agent", "version", "domain", "risk", "autonomy", "description")
    for row in rows:
        table.add_row(*row.values())
    console.print(table)


@agents_app.command("autonomy")
def agents_autonomy(
    agent: Annotated[str, typer.Argument(help="The agent's name, as `agents list` shows it")],
    level: Annotated[AutonomyLevel, typer.Argument(help="shadow, assisted or autonomous")],
    reason: Annotated[str, typer.Option("--reason", help="Why; kept in the audit trail")],
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Set an agent's autonomy; autonomous only with a track record that earned it."""
    from factory_agents.autonomy import AutonomyRules
    from factory_agents.ledger.repository import Ledger
    from factory_agents.registry import agent_specs

    settings = Settings()
    if agent not in agent_specs():
        raise ConfigurationError(f"no agent {agent!r} is installed; `agents list` shows them")
    person, _password = authenticated(settings, user, password_stdin)
    require(person, Permission.CONFIGURE_AGENTS, "change an agent's autonomy")
    ledger = Ledger.open(settings.ledger_url)
    record = ledger.track_record(agent)
    if level == AutonomyLevel.AUTONOMOUS:
        refusal = AutonomyRules().unlock_refusal(record)
        if refusal is not None:
            raise AuthorizationError(f"{refusal}; it stays {ledger.autonomy(agent)}")
    changed = ledger.set_autonomy(agent, level, actor=person.id, reason=reason)
    rate = "n/a" if record.approval_rate is None else f"{record.approval_rate:.0%}"
    console.print(
        f"{agent} is {level}{'' if changed else ' already'}; track record: {record.decisions}"
        f" decisions, {rate} approved, {record.adverse} adverse"
    )

"""`factory-agents ledger`: what the ledger knows about savings."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from factory_agents.settings import Settings

ledger_app = typer.Typer(help="What the ledger knows: savings.")
console = Console(soft_wrap=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


@ledger_app.command("savings")
def ledger_savings(as_json: JsonOption = False) -> None:
    """Estimated and realized savings per proposal (never added together)."""
    from factory_agents.ledger.repository import Ledger

    lines = Ledger.open(Settings().ledger_url).savings_by_proposal()
    if as_json:
        print(json.dumps([line.model_dump(mode="json") for line in lines], indent=2))
        return
    table = Table("proposal", "agent", "status", "estimated", "realized")
    for line in lines:
        estimated = f"{line.estimated_amount} {line.currency} / {line.horizon_hours:g} h"
        realized = "not measured yet"
        if line.realized_amount is not None and line.period_hours is not None:
            realized = f"{line.realized_amount} {line.currency} / {line.period_hours * 60:.1f} min"
        table.add_row(line.proposal_id, line.agent, line.status, estimated, realized)
    console.print(table)

"""`factory-agents connectors`: the installed connectors (entry points) and what they provide."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

connectors_app = typer.Typer(help="The installed connectors (factory_agents.connectors).")
console = Console(soft_wrap=True)


@connectors_app.callback(no_args_is_help=True)
def connectors_group() -> None:
    """The installed connectors (factory_agents.connectors entry points)."""


@connectors_app.command("list")
def list_connectors(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """The installed connectors: name, version, ports, description and distribution."""
    from factory_agents.registry import installed_connectors

    found = sorted(installed_connectors().values(), key=lambda c: c.spec.name)
    if as_json:
        rows = [
            {
                "name": c.spec.name,
                "version": c.spec.version,
                "ports": list(c.spec.provides),
                "description": c.spec.description,
                "distribution": c.distribution,
                "entry_point": c.entry_point,
            }
            for c in found
        ]
        print(json.dumps(rows, indent=2))
        return
    if not found:
        console.print("No connectors are installed (entry point group factory_agents.connectors).")
        return
    table = Table()
    table.add_column("connector", no_wrap=True)
    table.add_column("version", no_wrap=True)
    table.add_column("ports", no_wrap=True)
    table.add_column("description", ratio=1)
    table.add_column("distribution")
    for c in found:
        ports = ", ".join(c.spec.provides)
        table.add_row(c.spec.name, c.spec.version, ports, c.spec.description, c.distribution)
    console.print(table)

"""CLI sub-commands, one module each (a Typer app); `factory_agents.cli` mounts them lazily."""

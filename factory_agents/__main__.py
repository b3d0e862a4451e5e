"""`python -m factory_agents` runs the CLI."""

from factory_agents.cli import main

main()

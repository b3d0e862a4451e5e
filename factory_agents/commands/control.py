"""`factory-agents stop-all` and `resume`: the kill switch, signed by who used it."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from factory_agents.commands.signin import (
    PasswordStdinOption,
    UserOption,
    authenticated,
    require,
)
from factory_agents.identity import Permission
from factory_agents.settings import Settings

console = Console(soft_wrap=True)
ReasonOption = Annotated[str, typer.Option("--reason", help="Why; kept in the audit trail")]


def stop_all(
    reason: ReasonOption, user: UserOption = None, password_stdin: PasswordStdinOption = False
) -> None:
    """Put every agent in read-only mode and hold every execution until `resume`."""
    from workflows.control import stop_all as stop

    settings = Settings()
    person, _password = authenticated(settings, user, password_stdin)
    require(person, Permission.STOP_ALL, "stop the platform")
    report = asyncio.run(stop(settings, actor=person.id, reason=reason))
    state = "stopped" if report.changed else "was already stopped"
    console.print(
        f"platform {state}: agents read-only, executions held; {len(report.schedules)}"
        " agent schedule(s) paused. `factory-agents resume` undoes it."
    )


def resume(
    reason: ReasonOption, user: UserOption = None, password_stdin: PasswordStdinOption = False
) -> None:
    """Let agents propose and approved actions execute again (premises are re-checked)."""
    from workflows.control import resume as start

    settings = Settings()
    person, _password = authenticated(settings, user, password_stdin)
    require(person, Permission.RESUME, "resume the platform")
    report = asyncio.run(start(settings, actor=person.id, reason=reason))
    state = "resumed" if report.changed else "was already running"
    console.print(
        f"platform {state}: {len(report.schedules)} agent schedule(s) running,"
        f" {report.woken} suspended proposal(s) woken"
    )

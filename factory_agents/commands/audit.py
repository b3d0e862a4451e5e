"""`factory-agents audit`: verify the hash chain, export a signed-off report for a period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from factory_agents.commands.signin import (
    PasswordStdinOption,
    UserOption,
    authenticated,
    require,
)
from factory_agents.errors import ConfigurationError
from factory_agents.identity import Permission, load_signing_key
from factory_agents.settings import Settings

audit_app = typer.Typer(help="The hash-chained audit trail.")
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain; exit 1 and name the rows if it was tampered with."""
    from factory_agents.ledger.repository import Ledger

    report = Ledger.open(Settings().ledger_url).audit_report()
    if report.ok:
        console.print(f"audit trail intact: {report.events} events, hash chain verified")
        return
    for problem in report.problems:
        errors.print(f"[red]{problem}[/red]")
    raise typer.Exit(1)


def _day(text: str, what: str) -> datetime:
    """A date like 2026-11-24 as midnight UTC."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as err:
        raise ConfigurationError(f"{what} {text!r} is not a date like 2026-11-24") from err


@audit_app.command("export")
def audit_export(
    start: Annotated[str, typer.Option("--from", help="First day, e.g. 2026-11-01 (UTC)")],
    end: Annotated[str, typer.Option("--to", help="Last day, included (UTC)")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the CSV and HTML files")] = Path(),
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Write the period's audit events (CSV) and a report signed off by you (HTML)."""
    from factory_agents.ledger.export import SignOff
    from factory_agents.ledger.repository import Ledger

    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise ConfigurationError(f"--to {end} is before --from {start}")
    settings = Settings()
    person, _password = authenticated(settings, user, password_stdin)
    require(person, Permission.VIEW_AUDIT, "export the audit trail")
    sign_off = SignOff(
        user_id=person.id,
        full_name=person.full_name,
        role=", ".join(person.roles),
        key=load_signing_key(settings.home),
    )
    ledger = Ledger.open(settings.ledger_url)
    exported = ledger.export_audit(first, last + timedelta(days=1), out, sign_off)
    console.print(
        f"{exported.events} events → {exported.csv_path} (SHA-256 {exported.sha256[:16]}…) and"
        f" {exported.html_path}, signed off by {person.full_name}"
    )

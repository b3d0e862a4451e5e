"""`factory-agents approvals`: the queue, and signed approvals and rejections."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from factory_agents.commands.signin import PasswordStdinOption, UserOption, read_password, user_id
from factory_agents.errors import ProposalNotFound
from factory_agents.ledger.views import ProposalView
from factory_agents.settings import Settings

approvals_app = typer.Typer(help="The approval queue: list, approve, reject (signed).")
console = Console(soft_wrap=True)

ReasonOption = Annotated[str, typer.Option("--reason", help="Why; recorded with the decision")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


@approvals_app.command("list")
def approvals_list(
    as_json: JsonOption = False,
    show_all: Annotated[bool, typer.Option("--all", help="Include decided proposals")] = False,
) -> None:
    """Proposals waiting for a decision (or all, with --all), most valuable first."""
    from factory_agents.ledger.repository import Ledger
    from factory_agents.llm.explain import Explanation, deterministic_explanation

    ledger = Ledger.open(Settings().ledger_url)
    views = ledger.list_proposals() if show_all else ledger.awaiting_decision()

    def summary(view: ProposalView) -> str:
        stored = ledger.explanation(view.id, view.content_hash)
        if stored is not None:
            return Explanation.model_validate(stored).summary
        return deterministic_explanation(view.proposal).summary

    if as_json:
        dumped = [
            v.model_dump(mode="json", exclude={"proposal": {"evidence"}})
            | {"explanation": summary(v)}
            for v in views
        ]
        print(json.dumps(dumped, indent=2, default=str))
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
        signed = len(v.decisions)
        status = f"{v.status} ({signed} signed)" if signed else v.status
        saving = f"{v.estimated_amount} {v.currency}"
        described = f"{v.title}\n[dim]{escape(summary(v))}[/dim]"
        table.add_row(v.id, status, described, saving, f"{left} min")
    console.print(table)


def _decide(
    proposal_id: str,
    meaning: Literal["approve", "reject"],
    *,
    reason: str,
    user: str | None,
    password_stdin: bool,
) -> None:
    """Sign the decision on the content recorded in the ledger and deliver it."""
    from factory_agents.ledger.repository import Ledger
    from workflows.decisions import decide

    settings = Settings()
    view = Ledger.open(settings.ledger_url).get_proposal(proposal_id)
    if view is None:
        raise ProposalNotFound(
            f"no proposal {proposal_id!r} in the ledger; `factory-agents approvals list` shows ids"
        )
    who = user_id(user)
    password = read_password(password_stdin, who)
    outcome = asyncio.run(
        decide(
            settings, proposal_id=proposal_id, meaning=meaning, user_id=who, password=password,
            reason=reason, proposal_hash=view.content_hash,
        )
    )  # fmt: skip
    console.print(f"{outcome.proposal_id}: {outcome.message}")
    if outcome.status == "failed":
        raise typer.Exit(1)


@approvals_app.command("approve")
def approvals_approve(
    proposal_id: str,
    reason: ReasonOption,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Approve (signed with your password); returns once executed, refused, or waiting for a
    second approver."""
    _decide(proposal_id, "approve", reason=reason, user=user, password_stdin=password_stdin)


@approvals_app.command("reject")
def approvals_reject(
    proposal_id: str,
    reason: ReasonOption,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Reject (signed with your password); nothing is executed."""
    _decide(proposal_id, "reject", reason=reason, user=user, password_stdin=password_stdin)

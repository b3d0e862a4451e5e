"""`factory-agents ask QUESTION`: the plant copilot, answering from read-only tools.

Runs in this process on the same path as the `answer_question` activity, bounded by a
deadline. With `--draft` the copilot may draft one proposal; it is admitted and recorded as
pending like any agent's, and waits for an engineer's approval.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from factory_agents.commands.signin import UserOption, user_id
from factory_agents.settings import Settings

if TYPE_CHECKING:
    from factory_agents.llm.copilot_contract import CopilotAnswer
    from factory_agents.llm.cost import UsageRecord

console = Console(soft_wrap=True)

QuestionArgument = Annotated[
    str, typer.Argument(help='A question, e.g. "current value of Line1.Filler.FillWeightSetpoint"')
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
DraftOption = Annotated[
    bool,
    typer.Option(
        "--draft",
        help="Let the copilot draft one proposal; it is recorded as pending and needs approval",
    ),
]


def ask_command(
    question: QuestionArgument,
    as_json: JsonOption = False,
    draft: DraftOption = False,
    user: UserOption = None,
) -> None:
    """Ask the plant copilot; it answers from read-only tools and cites the numbers it used."""
    from factory_agents.ledger.repository import Ledger
    from factory_agents.llm.config import load_llm_config
    from factory_agents.llm.cost import InMemoryUsageSink
    from workflows.llm_activities import AskInput, PlatformDraftSink, ask_platform

    settings = Settings()
    config = load_llm_config()
    sink = InMemoryUsageSink()
    with Ledger.open(settings.ledger_url) as ledger:
        drafts = None
        if draft:
            drafts = PlatformDraftSink(settings, ledger, settings.policy(), user=user_id(user))
        result = asyncio.run(
            ask_platform(
                settings,
                config,
                AskInput(question=question, allow_drafts=draft, user=user_id(user)),
                usage_sink=sink,
                ledger=ledger,
                draft_sink=drafts,
            )
        )
    if as_json:
        data = {
            "answer": result.answer.model_dump(mode="json"),
            "usage": [record.model_dump(mode="json") for record in result.usage],
        }
        print(json.dumps(data, indent=2, default=str))
        return
    show_answer(result.answer, result.usage)


def show_answer(answer: CopilotAnswer, usage: list[UsageRecord]) -> None:
    """The answer, its label, cited numbers, tool calls, drafts and cost, for people."""
    from factory_agents.llm.cost import summarize

    console.print(answer.answer, markup=False, highlight=False)
    console.print(f"[dim]{escape(answer.label)}[/dim]")
    if answer.stopped:
        console.print(f"[yellow]{escape(answer.stopped)}[/yellow]")
    if answer.citations:
        cited = Table("number", "from")
        for citation in answer.citations:
            cited.add_row(citation.text, escape(citation.source))
        console.print(cited)
    if answer.unsupported_numbers:
        console.print(
            "[yellow]numbers not found in any tool result:[/yellow] "
            + escape(", ".join(answer.unsupported_numbers))
        )
    if answer.tool_calls:
        calls = Table("tool call", "arguments", "status", "result")
        for call in answer.tool_calls:
            args = json.dumps(call.args) if isinstance(call.args, dict) else call.args
            calls.add_row(escape(call.name), escape(args), call.status, escape(call.message))
        console.print(calls)
    for outcome in answer.drafts:
        colour = "green" if outcome.status == "recorded" else "red"
        console.print(f"[{colour}]draft {outcome.status}:[/{colour}] {escape(outcome.reason)}")
    for line in summarize(usage):
        console.print(
            f"[dim]{line.calls} model call(s), {line.input_tokens} + {line.output_tokens}"
            f" tokens, cost {line.cost} {line.currency}[/dim]"
        )

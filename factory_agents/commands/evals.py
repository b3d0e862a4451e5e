"""`factory-agents eval`: run the language layer's task suites and report per model.

Scripted fake models by default (CI), every configured model on its own when
FACTORY_LLM_MODELS is set (or only the scripted ones with --scripted). The copilot suites
run against a simulated plant started for the run in a temporary folder.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from factory_agents.llm.errors import LlmConfigurationError

if TYPE_CHECKING:
    from factory_agents.llm.evals import CaseResult, EvalReport

SUITES = ("faithfulness", "copilot", "tool_use")
"""The suites of factory_agents.llm.evals (named here so that the CLI starts without it)."""

console = Console(soft_wrap=True)

SuiteOption = Annotated[
    list[str] | None,
    typer.Option("--suite", help=f"Run only this suite ({', '.join(SUITES)}); repeatable"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
ScriptedOption = Annotated[
    bool, typer.Option("--scripted", help="Use the scripted fake models even if models are set")
]


def eval_command(
    suite: SuiteOption = None,
    as_json: JsonOption = False,
    scripted: ScriptedOption = False,
) -> None:
    """Run the eval suites; exit 1 if a case failed. Pass rate, latency and cost per model."""
    from factory_agents.llm.config import load_llm_config
    from factory_agents.llm.evals import run_evals, simulator_context
    from factory_agents.llm.router import ModelRouter

    unknown = sorted(set(suite or ()) - set(SUITES))
    if unknown:
        raise LlmConfigurationError(
            f"unknown suite(s) {', '.join(unknown)}; use --suite with one of {', '.join(SUITES)}"
        )
    config = load_llm_config()
    router = None if scripted or not config.configured else ModelRouter(config)
    if router is not None:
        router.check()

    def progress(result: CaseResult) -> None:
        if not as_json:
            mark = "[green]pass[/green]" if result.passed else "[red]FAIL[/red]"
            console.print(f"{mark} {escape(f'{result.model} {result.suite}: {result.case}')}")

    with tempfile.TemporaryDirectory(prefix="factory-evals-") as workdir:
        report = asyncio.run(
            run_evals(
                lambda: simulator_context(Path(workdir)),
                suites=suite,
                router=router,
                progress=progress,
            )
        )
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), indent=2, default=str))
    else:
        show_report(report)
    if not report.all_passed:
        raise typer.Exit(1)


def show_report(report: EvalReport) -> None:
    """Failed cases with their reasons, then the per-model, per-suite table."""
    for result in report.results:
        if not result.passed:
            where = f"{result.model} {result.suite}: {result.case}: {result.detail}"
            console.print(f"[red]FAIL[/red] {escape(where)}", highlight=False)
    table = Table(
        "model", "suite", "passed", "pass rate", "mean latency", "cost", "cost per passed case"
    )
    for line in report.summary:
        per_pass = "—" if line.cost_per_passed_case is None else str(line.cost_per_passed_case)
        table.add_row(
            line.model,
            line.suite,
            f"{line.passed}/{line.cases}",
            f"{line.pass_rate:.0%}",
            f"{line.mean_latency_seconds * 1000:.0f} ms",
            f"{line.cost} {line.currency}",
            f"{per_pass} {line.currency}" if line.cost_per_passed_case is not None else per_pass,
        )
    console.print(f"mode: {report.mode}")
    console.print(table)

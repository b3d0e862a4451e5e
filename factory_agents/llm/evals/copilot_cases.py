"""The copilot suite: questions with known answers from the simulated plant and the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from factory_agents import site
from factory_agents.llm.copilot import ask
from factory_agents.llm.copilot_contract import CopilotAnswer, RecordingDraftSink
from factory_agents.llm.cost import UsageMeter
from factory_agents.llm.evals.model import CaseRun, EvalCase, EvalContext, Grade
from factory_agents.llm.evals.scripted import echo
from factory_agents.llm.explain import fmt
from factory_agents.llm.fakes import Step, call_tools, tool_call
from factory_agents.llm.router import TaskModels


async def ask_copilot(
    ctx: EvalContext,
    question: str,
    models: TaskModels | None,
    meter: UsageMeter | None,
    *,
    allow_drafts: bool = False,
    sink: RecordingDraftSink | None = None,
) -> CopilotAnswer:
    """Ask the copilot over the case's plant, with no fallback to the default on failure."""
    assert ctx.reader is not None, "copilot cases need a plant (simulator_context)"
    return await ask(
        question,
        ctx.reader,
        models,
        max_steps=6,
        allow_drafts=allow_drafts,
        draft_sink=sink,
        policy=ctx.policy,
        meter=meter,
        fallback_on_call_failure=False,  # a model's failure is its own, never the default's
    )


def _cites(answer: CopilotAnswer, low: float, high: float, tool: str) -> Grade:
    for citation in answer.citations:
        if citation.source.startswith(f"{tool}:") and low - 1e-6 <= citation.value <= high + 1e-6:
            return True, f"cited {citation.text} from {citation.source}"
    shown = ", ".join(c.text for c in answer.citations) or "none"
    return False, f"expected a number in [{fmt(low)}, {fmt(high)}] from {tool}; cited {shown}"


def _value_case(tag: str) -> CaseRun:
    async def run(ctx: EvalContext, models: TaskModels | None, meter: UsageMeter | None) -> Grade:
        assert ctx.read_raw is not None
        (before,) = await ctx.read_raw([tag])
        answer = await ask_copilot(ctx, f"What is the current value of {tag}?", models, meter)
        (after,) = await ctx.read_raw([tag])
        low, high = sorted((before.value, after.value))
        return _cites(answer, low, high, "read_tags")

    return run


async def _pending_case(
    ctx: EvalContext, models: TaskModels | None, meter: UsageMeter | None
) -> Grade:
    proposal = ctx.pending_proposal
    assert proposal is not None
    answer = await ask_copilot(ctx, "Which proposals are pending approval?", models, meter)
    amount = float(proposal.estimated_saving.amount)
    passed, detail = _cites(answer, amount, amount, "list_proposals")
    if proposal.proposal_id not in answer.answer:
        return False, f"the answer does not name {proposal.proposal_id}; {detail}"
    return passed, detail


async def _stops_case(
    ctx: EvalContext, models: TaskModels | None, meter: UsageMeter | None
) -> Grade:
    assert ctx.stops_7d is not None
    question = "How many stops did the line have in the last 7 days?"
    answer = await ask_copilot(ctx, question, models, meter)
    return _cites(answer, ctx.stops_7d, ctx.stops_7d, "downtime")


def echo_script(name: str, args: dict[str, Any]) -> Callable[[], list[Step]]:
    """A script calling one tool, then echoing its numbers as the answer."""
    return lambda: [call_tools(tool_call(name, args)), echo]


def copilot_cases() -> list[EvalCase]:
    """Known answers from the simulated plant, its MES and the ledger."""
    return [
        EvalCase(
            "copilot",
            "fill-weight setpoint",
            "copilot",
            _value_case(site.FILL_SETPOINT),
            echo_script("read_tags", {"tags": [site.FILL_SETPOINT]}),
        ),
        EvalCase(
            "copilot",
            "good units counted",
            "copilot",
            _value_case(site.LINE_GOOD),
            echo_script("read_tags", {"tags": [site.LINE_GOOD]}),
        ),
        EvalCase(
            "copilot",
            "scrap units counted",
            "copilot",
            _value_case(site.LINE_SCRAP),
            echo_script("read_tags", {"tags": [site.LINE_SCRAP]}),
        ),
        EvalCase(
            "copilot",
            "pending proposal",
            "copilot",
            _pending_case,
            echo_script("list_proposals", {"status": "pending"}),
        ),
        EvalCase(
            "copilot",
            "stops in the last 7 days",
            "copilot",
            _stops_case,
            echo_script("downtime", {"hours": 168}),
        ),
    ]

"""The faithfulness suite: explanations of sample proposals checked against their facts."""

from __future__ import annotations

from factory_agents.agent import Proposal
from factory_agents.llm.cost import UsageMeter
from factory_agents.llm.evals.model import CaseRun, EvalCase, EvalContext, Grade
from factory_agents.llm.evals.samples import sample_proposals
from factory_agents.llm.evals.scripted import scripted_explainer
from factory_agents.llm.explain import (
    deterministic_explanation,
    explain_proposal,
    fact_map,
    proposal_facts,
    unsupported_numbers,
)
from factory_agents.llm.router import TaskModels


def _explain_case(proposal: Proposal) -> CaseRun:
    async def run(ctx: EvalContext, models: TaskModels | None, meter: UsageMeter | None) -> Grade:
        if models is None:
            built = deterministic_explanation(proposal)
            texts = [built.summary, *(line for s in built.sections for line in s.lines)]
            extra = unsupported_numbers(texts, fact_map(proposal_facts(proposal)))
            return not extra, f"deterministic text, numbers not in the facts: {extra or 'none'}"
        explanation = await explain_proposal(proposal, models, meter=meter)
        if explanation.source != "model":
            reasons = "; ".join(r.reason for r in explanation.rejections)
            return False, f"rejected: {reasons}"
        return True, f"accepted, {len(explanation.citations)} number(s) cited"

    return run


async def _rejects_unfaithful(
    ctx: EvalContext, models: TaskModels | None, meter: UsageMeter | None
) -> Grade:
    proposal = sample_proposals()[0]
    explanation = await explain_proposal(proposal, models, meter=meter)
    rejected = explanation.source == "deterministic" and bool(explanation.rejections)
    detail = explanation.rejections[-1].reason if explanation.rejections else "accepted"
    return rejected, detail


def faithfulness_cases() -> list[EvalCase]:
    """Explain each sample proposal; reject a misquoting explainer."""
    cases = [
        EvalCase(
            "faithfulness",
            f"explain {proposal.evidence.kind} ({proposal.proposal_id})",
            "explain",
            _explain_case(proposal),
            lambda: [scripted_explainer()],
            needs_plant=False,
        )
        for proposal in sample_proposals()
    ]
    cases.append(
        EvalCase(
            "faithfulness",
            "misquoted amount is rejected",
            "explain",
            _rejects_unfaithful,
            lambda: [scripted_explainer(inflate=1.37)],
            scripted_only=True,
            deterministic=False,
            needs_plant=False,
        )
    )
    return cases

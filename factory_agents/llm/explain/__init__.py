"""Explanations of proposals: deterministic from the evidence, or by a model and then checked.

Every proposal gets an explanation. Without a model it is built from the proposal itself
(what the agent saw, what it proposes, how the saving was estimated) and labelled as
generated without a language model. With a model configured for `explain`, the model
answers in a strict schema (summary, cited numbers with the fact each comes from, caveats),
and the answer is accepted only if it is faithful: every number in its text must be one of
the proposal's facts (evidence, baseline, estimate, action), within rounding, and every
citation must name a fact holding that number. An unfaithful or malformed answer is
rejected, the rejection recorded, and the deterministic explanation used instead.
"""

from __future__ import annotations

from factory_agents.llm.explain.deterministic import DETERMINISTIC_LABEL, deterministic_explanation
from factory_agents.llm.explain.explainer import SYSTEM_PROMPT, explain_proposal, explanation_prompt
from factory_agents.llm.explain.facts import PROMPT_LIST_TAIL, Fact, fact_map, proposal_facts
from factory_agents.llm.explain.faithfulness import check_faithfulness, unsupported_numbers
from factory_agents.llm.explain.number_tokens import NumberToken, find_fact, fmt, numbers_in
from factory_agents.llm.explain.schema import (
    CitedNumber,
    Explanation,
    ExplanationRejection,
    ExplanationSection,
    ModelExplanation,
)

__all__ = [
    "DETERMINISTIC_LABEL",
    "PROMPT_LIST_TAIL",
    "SYSTEM_PROMPT",
    "CitedNumber",
    "Explanation",
    "ExplanationRejection",
    "ExplanationSection",
    "Fact",
    "ModelExplanation",
    "NumberToken",
    "check_faithfulness",
    "deterministic_explanation",
    "explain_proposal",
    "explanation_prompt",
    "fact_map",
    "find_fact",
    "fmt",
    "numbers_in",
    "proposal_facts",
    "unsupported_numbers",
]

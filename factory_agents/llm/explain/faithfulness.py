"""The faithfulness check: every number and citation of a model's answer must be a fact."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from factory_agents.llm.errors import UnfaithfulExplanation
from factory_agents.llm.explain.number_tokens import NumberToken, find_fact, fmt, numbers_in
from factory_agents.llm.explain.schema import ModelExplanation


def unsupported_numbers(texts: Iterable[str], facts: Mapping[str, float]) -> list[str]:
    """The numbers in `texts` that no fact supports (empty: every number is a fact)."""
    return [
        token.text
        for text in texts
        for token in numbers_in(text)
        if find_fact(token, facts) is None
    ]


def check_faithfulness(answer: ModelExplanation, facts: Mapping[str, float]) -> None:
    """Raise UnfaithfulExplanation unless every number and citation is one of the facts."""
    problems = unsupported_numbers([answer.summary, *answer.caveats], facts)
    wrong_citations = []
    for cited in answer.cited_numbers:
        fact = facts.get(cited.source)
        token = _as_token(cited.value)
        if fact is None or not token.matches(fact):
            wrong_citations.append(f"{fmt(cited.value)} from {cited.source!r}")
    if problems or wrong_citations:
        parts = []
        if problems:
            parts.append(f"numbers not in the evidence: {', '.join(problems)}")
        if wrong_citations:
            parts.append(f"citations that do not match a fact: {', '.join(wrong_citations)}")
        raise UnfaithfulExplanation("; ".join(parts), numbers=problems + wrong_citations)


def _as_token(value: float) -> NumberToken:
    text = repr(float(value))
    decimals = 0 if "e" in text or "." not in text else len(text.split(".")[1].rstrip("0"))
    return NumberToken(text, float(value), decimals, percent=False)

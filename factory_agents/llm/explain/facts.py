"""The facts of a proposal: every number it holds, keyed by where it comes from."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from factory_agents.actions import SetpointChange
from factory_agents.agent import Proposal
from factory_agents.evidence import (
    BarChart,
    ControlChart,
    GanttChart,
    Histogram,
    Table,
    TrendChart,
)
from factory_agents.llm.explain.number_tokens import numbers_in

PROMPT_LIST_TAIL = 12
"""Of long series, the prompt shows only the newest values (all remain checkable facts)."""


@dataclass(frozen=True)
class Fact:
    """One number of a proposal, named by where it comes from (e.g. `baseline.value`)."""

    key: str
    value: float
    in_prompt: bool = True


def _flatten(prefix: str, data: Any, out: list[Fact], *, tail: bool = True) -> None:
    """Every finite number in `data` (JSON-like), keyed by its path under `prefix`."""
    if isinstance(data, bool):
        return
    if isinstance(data, int | float):
        if math.isfinite(data):
            out.append(Fact(prefix, float(data), tail))
        return
    if isinstance(data, dict):
        for key, value in data.items():
            _flatten(f"{prefix}.{key}", value, out, tail=tail)
        return
    if isinstance(data, list | tuple):
        for index, value in enumerate(data):
            shown = tail and index >= len(data) - PROMPT_LIST_TAIL
            _flatten(f"{prefix}[{index}]", value, out, tail=shown)


def _claims(key: str, text: str, out: list[Fact]) -> None:
    """The numbers the platform's or agent's own text states (title, rationale, action)."""
    for index, token in enumerate(numbers_in(text)):
        out.append(Fact(f"{key}#{index + 1}", token.value))


def proposal_facts(proposal: Proposal) -> list[Fact]:
    """Every number of a proposal with its source, plus a few derived ones (counts, extremes)."""
    facts: list[Fact] = []
    evidence = proposal.evidence
    _flatten("evidence", evidence.model_dump(mode="json", exclude={"signals"}), facts)
    facts += _derived_evidence_facts(evidence)
    saving = proposal.estimated_saving
    facts.append(Fact("estimated_saving.amount", float(saving.amount)))
    facts.append(Fact("estimated_saving.horizon_hours", saving.horizon_hours))
    _flatten("estimated_saving.inputs", saving.inputs, facts)
    baseline = proposal.baseline
    facts.append(Fact("baseline.value", baseline.value))
    facts.append(Fact("baseline.units", float(baseline.units)))
    facts.append(
        Fact("baseline.window_hours", (baseline.end - baseline.start).total_seconds() / 3600)
    )
    if proposal.unit_cost is not None:
        facts.append(Fact("unit_cost", float(proposal.unit_cost)))
    action = proposal.action
    _flatten("action", action.model_dump(mode="json"), facts)
    if isinstance(action, SetpointChange):
        facts.append(Fact("action.step", abs(action.to_value - action.from_value)))
    _claims("action.description", action.describe(), facts)
    _claims("title", proposal.title, facts)
    _claims("rationale", proposal.rationale, facts)
    for index, assumption in enumerate(saving.assumptions):
        _claims(f"estimated_saving.assumptions[{index}]", assumption, facts)
    _claims("estimated_saving.formula", saving.formula, facts)
    _claims("baseline.method", baseline.method, facts)
    return _unique(facts)


def _unique(facts: Iterable[Fact]) -> list[Fact]:
    seen: dict[str, Fact] = {}
    for fact in facts:
        seen.setdefault(fact.key, fact)
    return list(seen.values())


def _stats(prefix: str, values: Sequence[float]) -> list[Fact]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return [Fact(f"{prefix}.count", 0.0)]
    return [
        Fact(f"{prefix}.count", float(len(finite))),
        Fact(f"{prefix}.last", finite[-1]),
        Fact(f"{prefix}.min", min(finite)),
        Fact(f"{prefix}.max", max(finite)),
        Fact(f"{prefix}.mean", fmean(finite)),
    ]


def _derived_evidence_facts(evidence: Any) -> list[Fact]:
    """Counts, extremes and means of the evidence's series (numbers a reader would quote)."""
    if isinstance(evidence, ControlChart):
        return [
            *_stats("evidence.values", evidence.values),
            *_stats("evidence.ewma", evidence.ewma),
            Fact("evidence.signalled_points", float(len(evidence.signals))),
        ]
    if isinstance(evidence, Histogram):
        return _stats("evidence.values", evidence.values)
    if isinstance(evidence, TrendChart):
        facts: list[Fact] = []
        for series in evidence.series:
            facts += _stats(f"evidence.series[{series.name}]", series.values)
        return facts
    if isinstance(evidence, BarChart):
        return [
            Fact("evidence.bar_count", float(len(evidence.bars))),
            Fact("evidence.bars_total", sum(bar.value for bar in evidence.bars)),
        ]
    if isinstance(evidence, Table):
        return [Fact("evidence.row_count", float(len(evidence.rows)))]
    if isinstance(evidence, GanttChart):
        return [
            Fact("evidence.proposed_operations", float(len(evidence.proposed))),
            Fact("evidence.moved_operations", float(sum(t.moved for t in evidence.proposed))),
        ]
    return []


def fact_map(facts: Iterable[Fact]) -> dict[str, float]:
    """Facts as a key → value mapping."""
    return {fact.key: fact.value for fact in facts}

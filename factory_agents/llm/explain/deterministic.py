"""The explanation built from the proposal alone, without a language model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from statistics import fmean
from typing import Any

from factory_agents.agent import Proposal
from factory_agents.evidence import (
    BarChart,
    ControlChart,
    GanttChart,
    Histogram,
    Table,
    TrendChart,
)
from factory_agents.llm.explain.number_tokens import fmt
from factory_agents.llm.explain.schema import (
    Explanation,
    ExplanationRejection,
    ExplanationSection,
)

DETERMINISTIC_LABEL = "Generated without a language model, from the proposal's own evidence."


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _evidence_lines(evidence: Any) -> list[str]:
    """What the evidence shows, in sentences that quote only its facts."""
    if isinstance(evidence, ControlChart):
        lines = [
            f"{evidence.characteristic}: {len(evidence.values)} values in {evidence.unit}"
            + (
                f" from {_when(evidence.times[0])} to {_when(evidence.times[-1])}"
                if evidence.times
                else ""
            )
        ]
        if evidence.values:
            lines.append(
                f"last value {fmt(evidence.values[-1])} {evidence.unit}, EWMA"
                f" {fmt(evidence.ewma[-1]) if evidence.ewma else 'n/a'} {evidence.unit} against"
                f" EWMA limits {fmt(evidence.ewma_lcl)} to {fmt(evidence.ewma_ucl)} around the"
                f" center {fmt(evidence.center)} (sigma {fmt(evidence.sigma)})"
            )
        lines.append(f"specification limits {fmt(evidence.lsl)} to {fmt(evidence.usl)}")
        if evidence.signals:
            rules = sorted({rule for found in evidence.signals.values() for rule in found})
            lines.append(f"{len(evidence.signals)} point(s) signalled: {'; '.join(rules)}")
        return lines
    if isinstance(evidence, Histogram):
        lines = [f"{evidence.characteristic}: {len(evidence.values)} values in {evidence.unit}"]
        if evidence.values:
            lines.append(
                f"from {fmt(min(evidence.values))} to {fmt(max(evidence.values))}, mean"
                f" {fmt(fmean(evidence.values))}, against limits {fmt(evidence.lsl)} to"
                f" {fmt(evidence.usl)}"
            )
        return lines
    if isinstance(evidence, TrendChart):
        lines = []
        for series in evidence.series:
            if series.values:
                lines.append(
                    f"{series.name}: last {fmt(series.values[-1])} {evidence.unit}, between"
                    f" {fmt(min(series.values))} and {fmt(max(series.values))} over"
                    f" {len(series.values)} points"
                )
        lines += [
            f"threshold {t.name}: {fmt(t.value)} {evidence.unit}" for t in evidence.thresholds
        ]
        lines += [f"event {m.name} at {_when(m.at)}" for m in evidence.markers]
        return lines or [f"{evidence.title}: no data"]
    if isinstance(evidence, BarChart):
        ranked = sorted(evidence.bars, key=lambda bar: bar.value, reverse=True)
        return [f"{evidence.title} ({evidence.unit}):"] + [
            f"{bar.category}: {fmt(bar.value)}" for bar in ranked[:5]
        ]
    if isinstance(evidence, Table):
        lines = [f"{evidence.title}: {len(evidence.rows)} row(s)"]
        for row in evidence.rows[:5]:
            cells = [
                f"{column} {fmt(cell) if isinstance(cell, int | float) else cell}"
                for column, cell in zip(evidence.columns, row, strict=True)
                if cell is not None
            ]
            lines.append(", ".join(cells))
        return lines
    if isinstance(evidence, GanttChart):
        moved = sum(task.moved for task in evidence.proposed)
        resources = sorted({task.resource for task in evidence.proposed})
        return [
            f"{evidence.title}: {len(evidence.proposed)} operation(s) proposed on"
            f" {', '.join(resources)}, {moved} of them moved"
        ]
    return []


def deterministic_explanation(
    proposal: Proposal, rejections: Sequence[ExplanationRejection] = ()
) -> Explanation:
    """The explanation built from the proposal alone, labelled as made without a model."""
    saving = proposal.estimated_saving
    baseline = proposal.baseline
    saw = _evidence_lines(proposal.evidence)
    saw.append(
        f"baseline {baseline.metric} = {fmt(baseline.value)} over {baseline.units} units, from"
        f" {_when(baseline.start)} to {_when(baseline.end)} ({baseline.method})"
    )
    estimate = [
        f"{saving.amount} {saving.currency} over {fmt(saving.horizon_hours)} h",
        f"formula: {saving.formula}",
    ]
    if saving.inputs:
        estimate.append(
            "inputs: " + ", ".join(f"{k} = {fmt(v)}" for k, v in sorted(saving.inputs.items()))
        )
    if proposal.unit_cost is not None:
        estimate.append(f"unit cost: {proposal.unit_cost} {saving.currency}")
    estimate += [f"assumption: {assumption}" for assumption in saving.assumptions]
    summary = (
        f"{proposal.title}. The {proposal.agent} agent proposes: {proposal.action.describe()}."
        f" Estimated saving {saving.amount} {saving.currency} over {fmt(saving.horizon_hours)} h."
    )
    return Explanation(
        proposal_id=proposal.proposal_id,
        content_hash=proposal.content_hash(),
        source="deterministic",
        label=DETERMINISTIC_LABEL,
        summary=summary,
        sections=[
            ExplanationSection(heading="What the agent saw", lines=saw),
            ExplanationSection(
                heading="What it proposes", lines=[proposal.action.describe(), proposal.rationale]
            ),
            ExplanationSection(heading="Estimated saving", lines=estimate),
        ],
        rejections=list(rejections),
    )

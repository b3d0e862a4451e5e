"""The verdict (capable, centre the setpoint, tighten inspection, inconclusive, too few data)
and the conclusion sentence built from a report's numbers."""

from __future__ import annotations

import math
from dataclasses import replace

from factory_agents.catalog.quality.capability.report import CapabilityReport, Verdict


def choose_verdict(
    enough: bool, cpk_lower_bound: float, cpk_at_aim: float, off_centre: bool, target: float
) -> Verdict:
    """Capable, centre, tighten inspection, inconclusive, or too few data to say."""
    if not enough:
        return "insufficient_data"
    if cpk_lower_bound >= target:
        return "capable"
    if cpk_at_aim < target:
        return "tighten_inspection"
    return "centre" if off_centre else "inconclusive"


def with_conclusion(r: CapabilityReport) -> CapabilityReport:
    """The report with a sentence built from its numbers."""
    level = f"{100 * r.cpk_interval.confidence:.0f} %"
    decimals = max(0, math.ceil(-math.log10((r.spec.usl - r.spec.lsl) / 1000)))
    head = (
        f"{r.characteristic}: Cpk {r.cpk:.2f} (lower {level} bound"
        f" {r.cpk_interval.lower_bound:.2f}, target {r.target_cpk:.2f}), Cp {r.cp:.2f},"
        f" from {r.n} values; mean {r.mean:.{decimals}f} against an aim of"
        f" {r.spec.aim:.{decimals}f}."
    )
    now, aim = r.out_of_spec_now.total_ppm, r.out_of_spec_at_aim.total_ppm
    tail = {
        "capable": " Capable: no action needed.",
        "centre": (
            f" Centring is the fix: move the mean by {r.offset_to_aim:+.{decimals}f}; Cpk would"
            f" become {r.cpk_at_aim:.2f} and the expected out-of-spec fraction fall from"
            f" {now:,.0f} to {aim:,.0f} ppm."
        ),
        "tighten_inspection": (
            f" The spread is the problem: even centred, Cpk would be {r.cpk_at_aim:.2f} below the"
            f" target; inspect more tightly until the variation is reduced (expected {now:,.0f}"
            f" ppm out of spec now, {aim:,.0f} ppm if centred)."
        ),
        "inconclusive": (
            " The estimates reach the target but the lower confidence bound does not: collect"
            " more data before acting."
        ),
        "insufficient_data": " Too few data to judge; collect more before acting.",
    }[r.verdict]
    return replace(r, conclusion=head + tail)

"""Units out of specification: the measured ratio, and the saving of bringing it down.

Quality agents that move a characteristic back into its specification (SPC drift, capability)
price their effect the same way: the out-of-spec ratio measured before acting (the baseline),
minus the ratio measured on the units made after acting, times the units the line's counters
counted in that window, times what one out-of-spec unit costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from factory_agents.agent import Proposal, RealizedSaving, VerificationWindow
from factory_agents.errors import MeasurementNotReady
from factory_agents.plant import Sample
from factory_agents.screening import screen

CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Characteristic:
    """A measured characteristic, its specification, and the counters that count the units."""

    tag: str
    name: str
    lsl: float
    usl: float
    good_counter: str
    scrap_counter: str
    min_samples: int


def out_of_spec_ratio(samples: list[Sample], lsl: float, usl: float) -> float:
    """The fraction of samples outside [lsl, usl]."""
    return sum(not lsl <= s.value <= usl for s in samples) / len(samples)


def realized_out_of_spec_saving(
    c: Characteristic, proposal: Proposal, window: VerificationWindow, unit_cost: Decimal
) -> RealizedSaving:
    """(baseline ratio − ratio measured after acting) × units counted × unit cost."""
    start, end = window.before.at, window.after.at
    measured = [
        s
        for s in screen(window.data.history.get(c.tag, []), end).usable
        if start <= s.source_time <= end
    ]
    if len(measured) < c.min_samples:
        raise MeasurementNotReady(
            f"only {len(measured)} good {c.name} samples in the verification window; measuring"
            f" the realized saving needs {c.min_samples}"
        )
    ratio_after = out_of_spec_ratio(measured, c.lsl, c.usl)
    units = round(
        window.before.delta(window.after, c.good_counter)
        + window.before.delta(window.after, c.scrap_counter)
    )
    avoided = (proposal.baseline.value - ratio_after) * units
    currency = proposal.estimated_saving.currency
    return RealizedSaving(
        amount=(Decimal(str(avoided)) * unit_cost).quantize(CENTS),
        currency=currency,
        period_hours=(end - start).total_seconds() / 3600,
        metric_after=ratio_after,
        units=units,
        method=(
            f"(baseline out-of-spec ratio {proposal.baseline.value:.4f} - measured"
            f" {ratio_after:.4f} over {len(measured)} measured units) x {units} units produced"
            f" (line counters) x unit cost {unit_cost} {currency}; counterfactual: the ratio"
            " measured before acting would have continued without the action"
        ),
    )

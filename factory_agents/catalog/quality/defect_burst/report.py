"""The analysis end to end: MES results to a report of the burst, lots to hold and escapes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from factory_agents.catalog.quality.defect_burst.bucketing import Bucketing, bucket_keys, counts
from factory_agents.catalog.quality.defect_burst.lots import AffectedLot, affected_lots
from factory_agents.catalog.quality.defect_burst.records import Inspection, ProducedLot, aware
from factory_agents.catalog.quality.defect_burst.scan import Burst, BurstFinding, Status, find_burst
from factory_agents.catalog.quality.defect_burst.signals import (
    BaselineRate,
    BucketStat,
    BurstRules,
    WindowTest,
)


@dataclass(frozen=True)
class DefectBurstReport:
    """Everything an engineer needs to check a burst, the lots to hold and the escapes avoided."""

    status: Status
    characteristic: str | None
    bucketing: Bucketing
    baseline: BaselineRate
    buckets: tuple[BucketStat, ...]
    window: WindowTest | None
    burst: Burst | None
    affected_lots: tuple[AffectedLot, ...]
    detection_probability: float
    expected_escapes: float
    expected_escapes_low: float
    excess_escapes: float
    false_alarm_probability: float
    rules: tuple[str, ...]
    notes: tuple[str, ...]
    conclusion: str


def detect_defect_burst(
    inspections: Sequence[Inspection],
    *,
    reference_start: datetime,
    reference_end: datetime,
    bucketing: Bucketing = "lot",
    bucket_width: timedelta | None = None,
    produced_lots: Sequence[ProducedLot] = (),
    detection_probability: float = 0.9,
    as_of: datetime | None = None,
    characteristic: str | None = None,
    rules: BurstRules | None = None,
) -> DefectBurstReport:
    """Find an abnormal defect rate after the reference period and price the lots to hold."""
    aware(reference_start, "reference_start")
    aware(reference_end, "reference_end")
    if not reference_start < reference_end:
        raise ValueError("reference_start must lie before reference_end")
    if not 0 <= detection_probability <= 1:
        raise ValueError(
            f"detection_probability {detection_probability!r} must lie between 0 and 1: the chance"
            " that the normal inspection catches a defective unit"
        )
    if bucketing == "time" and (bucket_width is None or bucket_width <= timedelta(0)):
        raise ValueError("time buckets need a positive bucket_width, e.g. timedelta(hours=1)")
    rules = rules or BurstRules()
    chosen = [
        i for i in inspections if characteristic is None or i.characteristic == characteristic
    ]
    reference = [i for i in chosen if reference_start <= i.at < reference_end]
    monitored = sorted((i for i in chosen if i.at >= reference_end), key=lambda i: i.at)
    baseline = BaselineRate(
        inspected=len(reference),
        defective=sum(not i.passed for i in reference),
        start=reference_start,
        end=reference_end,
    )
    keys = bucket_keys(monitored, bucketing, reference_end, bucket_width)
    finding = find_burst(counts(monitored, keys), baseline, rules)
    as_of = as_of or (monitored[-1].at if monitored else reference_end)
    lots = affected_lots(finding, monitored, keys, produced_lots, as_of, detection_probability)
    notes = _notes(finding, monitored, lots, rules)
    return DefectBurstReport(
        status=finding.status,
        characteristic=characteristic,
        bucketing=bucketing,
        baseline=baseline,
        buckets=finding.buckets,
        window=finding.window,
        burst=finding.burst,
        affected_lots=lots,
        detection_probability=detection_probability,
        expected_escapes=sum(lot.expected_escapes or 0.0 for lot in lots),
        expected_escapes_low=sum(lot.expected_escapes_low or 0.0 for lot in lots),
        excess_escapes=sum(lot.excess_escapes or 0.0 for lot in lots),
        false_alarm_probability=finding.false_alarm_probability,
        rules=rules.describe(),
        notes=notes,
        conclusion=_conclusion(
            finding, lots, detection_probability, characteristic, rules.confidence
        ),
    )


def _notes(
    finding: BurstFinding,
    monitored: Sequence[Inspection],
    lots: Sequence[AffectedLot],
    rules: BurstRules,
) -> tuple[str, ...]:
    """What limits the conclusion."""
    notes: list[str] = []
    b = finding.baseline
    if finding.status == "insufficient_baseline":
        notes.append(
            f"the reference period has {b.defective} failed of {b.inspected} results; at least"
            f" {rules.min_baseline_defective} failed (and some passed) are needed for a baseline"
            " rate to judge against: lengthen the reference period"
        )
    without_lot = sum(i.lot is None for i in monitored)
    if without_lot:
        notes.append(
            f"{without_lot} results carry no lot number: they are bucketed and held by work order"
        )
    unknown = [lot for lot in lots if lot.quantity is None]
    if unknown:
        notes.append(
            f"{len(unknown)} affected lot(s) have no production record with a quantity: their"
            " escapes are not estimated"
        )
    if finding.burst is not None:
        notes.append(
            f"the burst's p-value {finding.burst.p_value:.2g} is nominal: the run of buckets was"
            " chosen by the data; the decision rests on the signals' false-alarm probability"
            f" of at most {finding.false_alarm_probability:.3f} per analysis"
        )
    return tuple(notes)


def _conclusion(
    finding: BurstFinding,
    lots: Sequence[AffectedLot],
    detection_probability: float,
    characteristic: str | None,
    confidence: float,
) -> str:
    """A short deterministic summary of the numbers."""
    what = f"{characteristic} results" if characteristic else "quality results"
    b = finding.baseline
    base = f"baseline {100 * b.proportion:.2f} % failed ({b.defective} of {b.inspected})"
    if finding.status == "insufficient_baseline":
        return f"No judgement on {what}: {base} is too little to judge against."
    if finding.status == "no_data":
        return f"No {what} after the reference period; {base}."
    burst = finding.burst
    if burst is None:
        return f"No abnormal defect rate in {len(finding.buckets)} buckets of {what}; {base}."
    escapes = sum(lot.expected_escapes or 0.0 for lot in lots)
    level = f"{100 * confidence:.0f} %"
    state = "ongoing" if burst.ongoing else f"ended {burst.end:%Y-%m-%d %H:%M}"
    return (
        f"Defect burst in {what} from {burst.start:%Y-%m-%d %H:%M} ({burst.first_bucket}),"
        f" {state}: {burst.defective} of {burst.inspected} failed"
        f" ({100 * burst.proportion:.1f} %, {level} CI {100 * burst.proportion_low:.1f}–"
        f"{100 * burst.proportion_high:.1f} %) against a {base}; signalled by {burst.trigger}."
        f" {len(lots)} lot(s) affected; holding them avoids an expected {escapes:,.1f} escaped"
        f" defective units at a detection probability of {100 * detection_probability:.0f} %."
    )

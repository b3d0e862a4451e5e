"""Abnormal defect rate in MES quality results: when it started, which lots to hold, what escapes.

Method, in the order it runs:

1. Baseline: p0 = failed / all results of a reference period. It must hold at least 5 failed
   results (n·p̄ ≥ 5); fewer give too rough a p0 to judge against (status insufficient_baseline).
2. Buckets after the reference: one per lot (in the order of each lot's first result; results
   without a lot number fall into a bucket of their work order) or one per time slot of fixed
   width. Sample sizes vary from bucket to bucket.
3. A p-chart with variable limits per bucket i (Montgomery, Introduction to Statistical Quality
   Control, section 7.2.2): p0 ± 3 √(p0 (1 − p0) / nᵢ), and the standardised statistic
   zᵢ = (pᵢ − p0) / √(p0 (1 − p0) / nᵢ).
4. Signals:
   - a bucket signals when zᵢ > 3 and its exact binomial tail P(X ≥ dᵢ | nᵢ, p0) ≤ 0.00135, the
     one-sided tail of a 3-sigma limit. The exact tail is the tiny-sample rule: the normal
     approximation never decides alone (it is poor when nᵢ·p0 < 5), and a bucket too small to
     reach that tail even with every result failed (at p0 = 2 %, any bucket of one result)
     can never signal;
   - the recent window (the last `recent_buckets` buckets together) signals when the exact
     binomial test against p0 (scipy.stats.binomtest, alternative "greater") gives p ≤ 0.001:
     a sustained moderate rise that no single bucket shows.
   On a stable process the chance that one analysis signals is at most the sum of the attained
   sizes of these tests, reported as `false_alarm_probability` (each size exact for the sample
   sizes seen; the discreteness of the binomial keeps a bucket's size at or below 0.00135). It
   treats p0 as known: a p0 estimated from few results raises the real rate, a longer
   reference period lowers it.
5. The burst is the run of consecutive buckets with the largest binomial log-likelihood ratio
   against p0 (the maximum-likelihood segment of a temporal scan), among the runs that contain
   the latest signalling bucket, or else end inside the signalling recent window. It starts at
   the first result of its first bucket and ends at the last result of its last bucket; it is
   ongoing when its last bucket is the latest. The change itself happened at an unknown moment
   after the last result before the burst, which is reported too. Its exact binomial p-value
   is reported as nominal: the run was chosen by looking at the data.
6. Affected lots: the lots with results inside the burst, and the lots whose production overlaps
   the burst (from its first result to its last, or to `as_of` if ongoing) even if not inspected
   yet, each with the reasons it is included.
   Expected escapes of a lot if not held = quantity × defect rate in the burst × (1 − detection
   probability of the normal inspection), also at the lower end of the rate's two-sided 95 %
   Clopper–Pearson interval, and the excess over the baseline rate. The failed-result
   proportion is taken as the unit defective rate (one checked characteristic per unit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import stats

Status = Literal["burst", "no_burst", "insufficient_baseline", "no_data"]
Bucketing = Literal["lot", "time"]


@dataclass(frozen=True, slots=True)
class Inspection:
    """One quality result from the MES: a characteristic checked against its limits."""

    lot: str | None
    work_order: str
    characteristic: str
    value: float
    lsl: float
    usl: float
    passed: bool
    at: datetime

    def __post_init__(self) -> None:
        _aware(self.at, f"inspection time of {self.characteristic} on {self.work_order}")


@dataclass(frozen=True, slots=True)
class ProducedLot:
    """A lot the line produced: how many units, for which work order, from when to when."""

    lot: str
    work_order: str
    quantity: float
    produced_from: datetime
    produced_to: datetime

    def __post_init__(self) -> None:
        _aware(self.produced_from, f"production start of lot {self.lot}")
        _aware(self.produced_to, f"production end of lot {self.lot}")
        if self.produced_to < self.produced_from:
            raise ValueError(f"lot {self.lot} ends before it starts; fix its production times")
        if not (math.isfinite(self.quantity) and self.quantity >= 0):
            raise ValueError(f"lot {self.lot} quantity {self.quantity!r} must be 0 or more")


@dataclass(frozen=True, slots=True)
class BucketCount:
    """Results of one bucket: its key, first and last result time, counts, lots and orders."""

    key: str
    start: datetime
    end: datetime
    inspected: int
    defective: int
    lots: tuple[str, ...] = ()
    work_orders: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.defective <= self.inspected or self.inspected == 0:
            raise ValueError(
                f"bucket {self.key}: {self.defective} defective of {self.inspected} inspected;"
                " a bucket needs results and cannot have more defectives than results"
            )


@dataclass(frozen=True)
class BurstRules:
    """The decision rules, with the false-alarm levels they imply."""

    sigma_limit: float = 3.0
    window_alpha: float = 0.001
    recent_buckets: int = 5
    min_baseline_defective: int = 5
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if not self.sigma_limit > 0:
            raise ValueError("sigma_limit must be positive, e.g. 3")
        if not 0 < self.window_alpha < 1 or not 0 < self.confidence < 1:
            raise ValueError("window_alpha and confidence must lie between 0 and 1")
        if self.recent_buckets < 1 or self.min_baseline_defective < 1:
            raise ValueError("recent_buckets and min_baseline_defective must be at least 1")

    @property
    def bucket_alpha(self) -> float:
        """One-sided normal tail beyond the sigma limit: 0.00135 for 3 sigma."""
        return float(stats.norm.sf(self.sigma_limit))

    def describe(self) -> tuple[str, ...]:
        """The rules in words, for the evidence shown to an engineer."""
        return (
            f"a bucket signals when its defect rate lies beyond the p-chart limit"
            f" (z > {self.sigma_limit:g}) and its exact binomial tail is at most"
            f" {self.bucket_alpha:.5f}",
            f"the last {self.recent_buckets} buckets signal together when the exact binomial"
            f" test against the baseline gives p ≤ {self.window_alpha:g}",
            f"the baseline needs at least {self.min_baseline_defective} failed results",
        )


@dataclass(frozen=True)
class BaselineRate:
    """The reference period's defect proportion p0."""

    inspected: int
    defective: int
    start: datetime | None
    end: datetime | None

    @property
    def proportion(self) -> float:
        """p0 = defective / inspected (0 when nothing was inspected)."""
        return self.defective / self.inspected if self.inspected else 0.0


@dataclass(frozen=True)
class BucketStat:
    """A bucket on the p-chart: counts, rate, limits, z, exact tail and whether it signals."""

    count: BucketCount
    proportion: float
    ucl: float
    lcl: float
    z: float
    tail_p: float
    signal: bool
    size: float


@dataclass(frozen=True)
class WindowTest:
    """The exact binomial test of the recent buckets together against the baseline."""

    first_bucket: str
    buckets: int
    inspected: int
    defective: int
    p_value: float
    signal: bool
    size: float

    @property
    def proportion(self) -> float:
        """Defect proportion in the window."""
        return self.defective / self.inspected


@dataclass(frozen=True)
class Burst:
    """The run of buckets most likely to be the burst, and its evidence."""

    first_bucket: str
    last_bucket: str
    buckets: int
    start: datetime
    end: datetime
    previous_result_at: datetime | None
    ongoing: bool
    inspected: int
    defective: int
    proportion_low: float
    proportion_high: float
    p_value: float
    log_likelihood_ratio: float
    trigger: str

    @property
    def proportion(self) -> float:
        """Defect proportion in the burst."""
        return self.defective / self.inspected


@dataclass(frozen=True)
class BurstFinding:
    """The p-chart, the window test and the burst (if any) over bucket counts."""

    status: Status
    baseline: BaselineRate
    buckets: tuple[BucketStat, ...]
    window: WindowTest | None
    burst: Burst | None
    false_alarm_probability: float


@dataclass(frozen=True)
class AffectedLot:
    """A lot (or a work order whose results carry no lot) to hold, why, and its escapes."""

    lot: str | None
    work_order: str
    reasons: tuple[str, ...]
    inspected: int
    defective: int
    quantity: float | None
    expected_defective: float | None
    expected_escapes: float | None
    expected_escapes_low: float | None
    excess_escapes: float | None


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


def p_chart_limits(p0: float, n: int, sigma_limit: float = 3.0) -> tuple[float, float]:
    """Lower and upper p-chart limits for a sample of n: p0 ± L √(p0 (1 − p0) / n) in [0, 1]."""
    if not 0 < p0 < 1 or n < 1:
        raise ValueError(f"p-chart limits need 0 < p0 < 1 and n ≥ 1; got p0 {p0!r}, n {n!r}")
    half = sigma_limit * math.sqrt(p0 * (1 - p0) / n)
    return max(0.0, p0 - half), min(1.0, p0 + half)


def exact_upper_tail(defective: int, inspected: int, p0: float) -> float:
    """P(X ≥ defective) for X ~ Binomial(inspected, p0): scipy's binomtest, alternative greater."""
    return float(stats.binomtest(defective, inspected, p0, alternative="greater").pvalue)


def find_burst(
    buckets: Sequence[BucketCount], baseline: BaselineRate, rules: BurstRules | None = None
) -> BurstFinding:
    """Judge bucket counts against the baseline: p-chart, window test and the burst run."""
    rules = rules or BurstRules()
    if (
        baseline.defective < rules.min_baseline_defective
        or baseline.inspected == baseline.defective
    ):
        return BurstFinding("insufficient_baseline", baseline, (), None, None, 0.0)
    if not buckets:
        return BurstFinding("no_data", baseline, (), None, None, 0.0)
    p0 = baseline.proportion
    chart = _chart(buckets, p0, rules)
    window = _window_test(buckets, p0, rules)
    false_alarm = min(1.0, sum(b.size for b in chart) + window.size)
    signalling = [i for i, b in enumerate(chart) if b.signal]
    if not signalling and not window.signal:
        return BurstFinding("no_burst", baseline, chart, window, None, false_alarm)
    burst = _burst(buckets, chart, p0, signalling, window, len(buckets) - window.buckets, rules)
    return BurstFinding("burst", baseline, chart, window, burst, false_alarm)


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
    _aware(reference_start, "reference_start")
    _aware(reference_end, "reference_end")
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
    keys = _bucket_keys(monitored, bucketing, reference_end, bucket_width)
    finding = find_burst(_counts(monitored, keys), baseline, rules)
    as_of = as_of or (monitored[-1].at if monitored else reference_end)
    lots = _affected_lots(finding, monitored, keys, produced_lots, as_of, detection_probability)
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


def _chart(buckets: Sequence[BucketCount], p0: float, rules: BurstRules) -> tuple[BucketStat, ...]:
    """Each bucket on the p-chart, with its exact tail and the attained size of its rule."""
    n = np.array([b.inspected for b in buckets], dtype=float)
    d = np.array([b.defective for b in buckets], dtype=float)
    sd = np.sqrt(p0 * (1 - p0) / n)
    z = (d / n - p0) / sd
    tails = stats.binom.sf(d - 1, n, p0)
    alpha = rules.bucket_alpha
    out: list[BucketStat] = []
    for i, b in enumerate(buckets):
        lcl, ucl = p_chart_limits(p0, b.inspected, rules.sigma_limit)
        out.append(
            BucketStat(
                count=b,
                proportion=b.defective / b.inspected,
                ucl=ucl,
                lcl=lcl,
                z=float(z[i]),
                tail_p=float(tails[i]),
                signal=bool(z[i] > rules.sigma_limit and tails[i] <= alpha),
                size=_bucket_size(b.inspected, p0, rules.sigma_limit, alpha),
            )
        )
    return tuple(out)


@lru_cache(maxsize=4096)
def _bucket_size(n: int, p0: float, sigma_limit: float, alpha: float) -> float:
    """Probability that a bucket of n results signals on a stable process at p0."""
    by_limit = math.floor(n * (p0 + sigma_limit * math.sqrt(p0 * (1 - p0) / n))) + 1
    critical = max(by_limit, _exact_critical(n, p0, alpha))
    return float(stats.binom.sf(critical - 1, n, p0)) if critical <= n else 0.0


def _exact_critical(n: int, p0: float, alpha: float) -> int:
    """The least count c with P(X ≥ c | n, p0) ≤ alpha (n + 1 when none is)."""
    c = int(stats.binom.isf(alpha, n, p0)) + 1
    while c > 0 and stats.binom.sf(c - 2, n, p0) <= alpha:
        c -= 1
    while c <= n and stats.binom.sf(c - 1, n, p0) > alpha:
        c += 1
    return c


def _window_test(buckets: Sequence[BucketCount], p0: float, rules: BurstRules) -> WindowTest:
    """The exact binomial test of the last `recent_buckets` buckets against p0."""
    recent = buckets[-rules.recent_buckets :]
    n = sum(b.inspected for b in recent)
    d = sum(b.defective for b in recent)
    p_value = exact_upper_tail(d, n, p0)
    critical = _exact_critical(n, p0, rules.window_alpha)
    size = float(stats.binom.sf(critical - 1, n, p0)) if critical <= n else 0.0
    return WindowTest(
        recent[0].key, len(recent), n, d, p_value, p_value <= rules.window_alpha, size
    )


def _burst(
    buckets: Sequence[BucketCount],
    chart: Sequence[BucketStat],
    p0: float,
    signalling: Sequence[int],
    window: WindowTest,
    window_first: int,
    rules: BurstRules,
) -> Burst:
    """The maximum-likelihood run of buckets around the evidence that signalled."""
    n = [0, *np.cumsum([b.inspected for b in buckets]).tolist()]
    d = [0, *np.cumsum([b.defective for b in buckets]).tolist()]
    if signalling:
        anchor = signalling[-1]
        starts, ends = range(anchor + 1), range(anchor, len(buckets))
        key = chart[anchor].count.key
        trigger = f"bucket {key} beyond the p-chart limit (z = {chart[anchor].z:.1f})"
    else:
        starts, ends = range(len(buckets)), range(window_first, len(buckets))
        trigger = (
            f"the last {window.buckets} buckets together (exact binomial p = {window.p_value:.2g})"
        )
    best = (-math.inf, 0, 0)
    for s in starts:
        for e in ends:
            if e < s:
                continue
            llr = _log_likelihood_ratio(d[e + 1] - d[s], n[e + 1] - n[s], p0)
            if llr > best[0]:
                best = (llr, s, e)
    llr, s, e = best
    inspected, defective = n[e + 1] - n[s], d[e + 1] - d[s]
    test = stats.binomtest(defective, inspected, p0, alternative="greater")
    ci = stats.binomtest(defective, inspected, p0).proportion_ci(
        confidence_level=rules.confidence, method="exact"
    )
    return Burst(
        first_bucket=buckets[s].key,
        last_bucket=buckets[e].key,
        buckets=e - s + 1,
        start=buckets[s].start,
        end=buckets[e].end,
        previous_result_at=max((b.end for b in buckets[:s]), default=None),
        ongoing=e == len(buckets) - 1,
        inspected=inspected,
        defective=defective,
        proportion_low=float(ci.low),
        proportion_high=float(ci.high),
        p_value=float(test.pvalue),
        log_likelihood_ratio=llr,
        trigger=trigger,
    )


def _log_likelihood_ratio(defective: int, inspected: int, p0: float) -> float:
    """Binomial log-likelihood ratio of a run's own rate against p0; 0 unless it is higher."""
    p = defective / inspected
    if p <= p0:
        return 0.0
    llr = defective * math.log(p / p0)
    if defective < inspected:
        llr += (inspected - defective) * math.log((1 - p) / (1 - p0))
    return llr


def _bucket_keys(
    monitored: Sequence[Inspection],
    bucketing: Bucketing,
    origin: datetime,
    width: timedelta | None,
) -> list[str]:
    """The bucket of each result: its lot (or work order without a lot), or its time slot."""
    if bucketing == "lot":
        return [i.lot if i.lot is not None else _no_lot_key(i.work_order) for i in monitored]
    assert width is not None
    return [f"{origin + ((i.at - origin) // width) * width:%Y-%m-%d %H:%M}" for i in monitored]


def _counts(monitored: Sequence[Inspection], keys: Sequence[str]) -> list[BucketCount]:
    """Counts, first and last result time, lots and work orders per bucket, by first result."""
    groups: dict[str, list[Inspection]] = {}
    for inspection, key in zip(monitored, keys, strict=True):
        groups.setdefault(key, []).append(inspection)
    ordered = sorted(groups.items(), key=lambda kv: (min(i.at for i in kv[1]), kv[0]))
    return [
        BucketCount(
            key=key,
            start=min(i.at for i in group),
            end=max(i.at for i in group),
            inspected=len(group),
            defective=sum(not i.passed for i in group),
            lots=tuple(sorted({i.lot for i in group if i.lot is not None})),
            work_orders=tuple(sorted({i.work_order for i in group})),
        )
        for key, group in ordered
    ]


def _no_lot_key(work_order: str) -> str:
    """Bucket key of results that carry no lot number."""
    return f"{work_order} (no lot)"


def _affected_lots(
    finding: BurstFinding,
    monitored: Sequence[Inspection],
    keys: Sequence[str],
    produced: Sequence[ProducedLot],
    as_of: datetime,
    detection_probability: float,
) -> tuple[AffectedLot, ...]:
    """Lots with results in the burst and lots produced while it lasted, with their escapes."""
    burst = finding.burst
    if burst is None:
        return ()
    chart_keys = [b.count.key for b in finding.buckets]
    first = chart_keys.index(burst.first_bucket)
    burst_keys = set(chart_keys[first : first + burst.buckets])
    inside = [i for i, key in zip(monitored, keys, strict=True) if key in burst_keys]
    window_end = as_of if burst.ongoing else burst.end
    reasons: dict[tuple[str | None, str], list[str]] = {}
    counts: dict[tuple[str | None, str], tuple[int, int]] = {}
    for i in inside:
        ident = (i.lot, i.work_order)
        n, d = counts.get(ident, (0, 0))
        counts[ident] = (n + 1, d + (not i.passed))
    for ident, (n, d) in counts.items():
        why = f"{d} of {n} results failed inside the burst ({100 * d / n:.1f} %)"
        if ident[0] is None:
            why += "; the results carry no lot number, so hold the work order's output"
        reasons.setdefault(ident, []).append(why)
    quantities: dict[tuple[str | None, str], float] = {}
    for lot in produced:
        ident = (lot.lot, lot.work_order)
        quantities[ident] = lot.quantity
        if lot.produced_from < window_end and lot.produced_to > burst.start:
            inspected = ident in counts
            reasons.setdefault(ident, []).append(
                f"produced {lot.produced_from:%Y-%m-%d %H:%M}–{lot.produced_to:%H:%M}, overlapping"
                f" the burst ({burst.start:%Y-%m-%d %H:%M}–{window_end:%H:%M})"
                + ("" if inspected else "; not inspected yet")
            )
    p, p_low, p0 = burst.proportion, burst.proportion_low, finding.baseline.proportion
    miss = 1 - detection_probability
    out: list[AffectedLot] = []
    for ident in sorted(reasons, key=lambda k: (k[0] is None, k[0] or "", k[1])):
        quantity = quantities.get(ident)
        n, d = counts.get(ident, (0, 0))
        out.append(
            AffectedLot(
                lot=ident[0],
                work_order=ident[1],
                reasons=tuple(reasons[ident]),
                inspected=n,
                defective=d,
                quantity=quantity,
                expected_defective=None if quantity is None else quantity * p,
                expected_escapes=None if quantity is None else quantity * p * miss,
                expected_escapes_low=None if quantity is None else quantity * p_low * miss,
                excess_escapes=None if quantity is None else quantity * max(p - p0, 0.0) * miss,
            )
        )
    return tuple(out)


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


def _aware(moment: datetime, what: str) -> None:
    """Refuse naive datetimes: MES times are compared across systems in UTC."""
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware (UTC); got a naive datetime {moment}")

"""Judging bucket counts: the finding's status, and the burst as the maximum-likelihood run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
from scipy import stats

from factory_agents.catalog.quality.defect_burst.records import BucketCount
from factory_agents.catalog.quality.defect_burst.signals import (
    BaselineRate,
    BucketStat,
    BurstRules,
    WindowTest,
    p_chart,
    window_test,
)

Status = Literal["burst", "no_burst", "insufficient_baseline", "no_data"]


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
    chart = p_chart(buckets, p0, rules)
    window = window_test(buckets, p0, rules)
    false_alarm = min(1.0, sum(b.size for b in chart) + window.size)
    signalling = [i for i, b in enumerate(chart) if b.signal]
    if not signalling and not window.signal:
        return BurstFinding("no_burst", baseline, chart, window, None, false_alarm)
    burst = _burst(buckets, chart, p0, signalling, window, len(buckets) - window.buckets, rules)
    return BurstFinding("burst", baseline, chart, window, burst, false_alarm)


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

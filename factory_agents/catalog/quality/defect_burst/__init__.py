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

from factory_agents.catalog.quality.defect_burst.bucketing import Bucketing
from factory_agents.catalog.quality.defect_burst.lots import AffectedLot
from factory_agents.catalog.quality.defect_burst.records import BucketCount, Inspection, ProducedLot
from factory_agents.catalog.quality.defect_burst.report import (
    DefectBurstReport,
    detect_defect_burst,
)
from factory_agents.catalog.quality.defect_burst.scan import Burst, BurstFinding, Status, find_burst
from factory_agents.catalog.quality.defect_burst.signals import (
    BaselineRate,
    BucketStat,
    BurstRules,
    WindowTest,
    exact_upper_tail,
    p_chart_limits,
)

__all__ = [
    "AffectedLot",
    "BaselineRate",
    "BucketCount",
    "BucketStat",
    "Bucketing",
    "Burst",
    "BurstFinding",
    "BurstRules",
    "DefectBurstReport",
    "Inspection",
    "ProducedLot",
    "Status",
    "WindowTest",
    "detect_defect_burst",
    "exact_upper_tail",
    "find_burst",
    "p_chart_limits",
]

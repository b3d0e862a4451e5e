"""Signal rules: the baseline rate, each bucket's p-chart and exact tail, the recent window test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
from scipy import stats

from factory_agents.catalog.quality.defect_burst.records import BucketCount


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


def p_chart_limits(p0: float, n: int, sigma_limit: float = 3.0) -> tuple[float, float]:
    """Lower and upper p-chart limits for a sample of n: p0 ± L √(p0 (1 − p0) / n) in [0, 1]."""
    if not 0 < p0 < 1 or n < 1:
        raise ValueError(f"p-chart limits need 0 < p0 < 1 and n ≥ 1; got p0 {p0!r}, n {n!r}")
    half = sigma_limit * math.sqrt(p0 * (1 - p0) / n)
    return max(0.0, p0 - half), min(1.0, p0 + half)


def exact_upper_tail(defective: int, inspected: int, p0: float) -> float:
    """P(X ≥ defective) for X ~ Binomial(inspected, p0): scipy's binomtest, alternative greater."""
    return float(stats.binomtest(defective, inspected, p0, alternative="greater").pvalue)


def p_chart(buckets: Sequence[BucketCount], p0: float, rules: BurstRules) -> tuple[BucketStat, ...]:
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


def window_test(buckets: Sequence[BucketCount], p0: float, rules: BurstRules) -> WindowTest:
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

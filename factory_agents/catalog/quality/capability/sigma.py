"""Within-subgroup sigma: the d2 and c4 constants and R̄/d2 or s̄/c4 of equal-size subgroups."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from statistics import fmean, stdev
from typing import Literal

from scipy import integrate, stats

SubgroupSigma = Literal["range", "stdev"]


def d2(n: int) -> float:
    """Mean range of n standard normal values, ∫ 1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ dx (1.128 for n = 2)."""
    return _d2(_subgroup_size(n))


@lru_cache(maxsize=64)
def _d2(n: int) -> float:
    def integrand(x: float) -> float:
        return float(1 - stats.norm.cdf(x) ** n - stats.norm.sf(x) ** n)

    value, _error = integrate.quad(integrand, -math.inf, math.inf)
    return float(value)


def c4(n: int) -> float:
    """Mean of s over σ for n normal values, √(2/(n−1)) Γ(n/2) / Γ((n−1)/2) (0.9400 for n = 5)."""
    n = _subgroup_size(n)
    return math.sqrt(2 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))


def sigma_within_subgroups(subgroups: Sequence[Sequence[float]], method: SubgroupSigma) -> float:
    """Within-subgroup sigma of equal-size subgroups: R̄ / d2(n) or s̄ / c4(n)."""
    size = equal_size(subgroups)
    if method == "range":
        return fmean(max(g) - min(g) for g in subgroups) / d2(size)
    return fmean(stdev(g) for g in subgroups) / c4(size)


def equal_size(subgroups: Sequence[Sequence[float]]) -> int:
    """The common size of the subgroups, refusing empty, single or unequal ones."""
    if not subgroups:
        raise ValueError("no subgroups given")
    sizes = {len(g) for g in subgroups}
    if len(sizes) != 1:
        raise ValueError(
            f"subgroups must all have the same size for R̄/d2 or s̄/c4; got sizes {sorted(sizes)}."
            " Drop incomplete subgroups or assess the values as individuals"
        )
    return _subgroup_size(sizes.pop())


def _subgroup_size(n: int) -> int:
    """A subgroup size the constants are defined for."""
    if not 2 <= n <= 50:
        raise ValueError(f"subgroup size {n} must be between 2 and 50")
    return n

"""Capability indices Cp and Cpk (Pp and Ppk with the overall sigma) and their confidence
intervals: chi-square for Cp, Bissell's normal approximation for Cpk."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from factory_agents.catalog.quality.capability.guards import alpha_for, positive_sigma
from factory_agents.catalog.quality.capability.spec import SpecLimits


@dataclass(frozen=True)
class ConfidenceInterval:
    """A two-sided interval, the one-sided lower bound at the same confidence, and the method."""

    lower: float
    upper: float
    lower_bound: float
    confidence: float
    method: str


def cp(spec: SpecLimits, sigma: float) -> float:
    """Cp (or Pp with the overall sigma) = (USL − LSL) / 6σ."""
    return (spec.usl - spec.lsl) / (6 * positive_sigma(sigma))


def cpk(spec: SpecLimits, mean: float, sigma: float) -> float:
    """Cpk (or Ppk) = min(USL − mean, mean − LSL) / 3σ."""
    return min(spec.usl - mean, mean - spec.lsl) / (3 * positive_sigma(sigma))


def cp_interval(cp_hat: float, n: int, confidence: float = 0.95) -> ConfidenceInterval:
    """Chi-square interval for Cp from N values (N − 1 degrees of freedom)."""
    df = _sample_size(n) - 1
    alpha = alpha_for(confidence)
    return ConfidenceInterval(
        lower=cp_hat * math.sqrt(float(stats.chi2.ppf(alpha / 2, df)) / df),
        upper=cp_hat * math.sqrt(float(stats.chi2.ppf(1 - alpha / 2, df)) / df),
        lower_bound=cp_hat * math.sqrt(float(stats.chi2.ppf(alpha, df)) / df),
        confidence=confidence,
        method=f"chi-square, {df} degrees of freedom",
    )


def cpk_interval(cpk_hat: float, n: int, confidence: float = 0.95) -> ConfidenceInterval:
    """Bissell's (1990) normal-approximation interval for Cpk from N values."""
    n = _sample_size(n)
    alpha = alpha_for(confidence)
    se = math.sqrt(1 / (9 * n) + cpk_hat**2 / (2 * (n - 1)))
    two_sided = float(stats.norm.ppf(1 - alpha / 2))
    one_sided = float(stats.norm.ppf(1 - alpha))
    return ConfidenceInterval(
        lower=cpk_hat - two_sided * se,
        upper=cpk_hat + two_sided * se,
        lower_bound=cpk_hat - one_sided * se,
        confidence=confidence,
        method="Bissell (1990) normal approximation",
    )


def _sample_size(n: int) -> int:
    """A sample size an interval can be computed from."""
    if n < 2:
        raise ValueError(f"need at least two values for a confidence interval; got {n}")
    return n

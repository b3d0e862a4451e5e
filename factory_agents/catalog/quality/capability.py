"""Process capability of one characteristic, and whether centring or tighter inspection is the fix.

Indices (Montgomery, Introduction to Statistical Quality Control, chapter 8):

- Cp = (USL − LSL) / 6σ_within, Cpk = min(USL − mean, mean − LSL) / 3σ_within: the potential of
  the process from its short-term (within-subgroup) sigma: the mean moving range / d2 = 1.128
  for individual values, R̄ / d2(n) or s̄ / c4(n) for subgroups of size n;
- Pp, Ppk: the same with the overall sample standard deviation (performance so far).

Confidence (two-sided interval and the one-sided lower bound, both at `confidence`):

- Cp by the chi-square distribution with N − 1 degrees of freedom: Cp √(χ²_{α/2, N−1} / (N − 1))
  (Montgomery, section 8.3.5; with a moving-range or range sigma this is somewhat optimistic);
- Cpk by Bissell's (1990) normal approximation: Cpk ± z √(1 / (9N) + Cpk² / (2(N − 1))).

Decisions use the one-sided lower bounds: a process is judged capable only when the lower bound
of Cpk reaches the target. Otherwise:

- centre: the mean sits significantly off the aim (|mean − aim| > z_{1−α/2} σ_within / √N) and
  centring alone would bring Cpk to the target (Cpk at the aim ≥ target; with the aim at the
  middle of the specification that is Cp ≥ target); the offset to apply is aim − mean;
- tighten inspection: Cpk at the aim stays below the target (Cp < target): spread is the problem,
  no setpoint move fixes it, so inspect more tightly until the variation is reduced;
- inconclusive: point estimates reach the target but the lower bound does not; collect more data.

Expected out-of-specification fractions (ppm) come from the normal model, now and after
centring. A note warns when the data fail the Anderson–Darling normality test at 5 % (statistic
with Stephens' small-sample adjustment A*² = A²(1 + 0.75/N + 2.25/N²) and the p-value formulas of
D'Agostino & Stephens, Goodness-of-Fit Techniques, 1986, table 4.9), since then the ppm and the
intervals are not to be trusted, and when the data are too few:

- at least 30 individual values: with 30, an observed Cpk of 1.33 has a 95 % lower bound of 1.03,
  just above 1.0; with fewer the data cannot tell a capable process from one at Cpk 1.0;
- for subgroups also at least 20 subgroups, the least Montgomery recommends for estimating the
  within-subgroup sigma in a preliminary (phase I) study.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from statistics import fmean, stdev
from typing import Literal

import numpy as np
from scipy import integrate, stats

from factory_agents.catalog.quality import spc

MIN_VALUES = 30
MIN_SUBGROUPS = 20
MIN_VALUES_FOR_NORMALITY = 8
NORMALITY_ALPHA = 0.05
DEFAULT_TARGET_CPK = 1.33
PPM = 1_000_000

SubgroupSigma = Literal["range", "stdev"]
SigmaMethod = Literal["moving_range", "range", "stdev"]
Verdict = Literal["capable", "centre", "tighten_inspection", "inconclusive", "insufficient_data"]


@dataclass(frozen=True)
class SpecLimits:
    """Two-sided specification of a characteristic, with an optional nominal (the aim)."""

    lsl: float
    usl: float
    nominal: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("lsl", self.lsl), ("usl", self.usl)):
            if not math.isfinite(value):
                raise ValueError(f"{name} {value!r} must be a finite number")
        if not self.lsl < self.usl:
            raise ValueError(f"lsl {self.lsl:g} must be below usl {self.usl:g}")
        if self.nominal is not None and not self.lsl < self.nominal < self.usl:
            raise ValueError(
                f"nominal {self.nominal:g} must lie between lsl {self.lsl:g} and usl {self.usl:g}"
            )

    @property
    def aim(self) -> float:
        """Where centring moves the mean: the nominal, else the middle of the specification."""
        return (self.lsl + self.usl) / 2 if self.nominal is None else self.nominal


@dataclass(frozen=True)
class ConfidenceInterval:
    """A two-sided interval, the one-sided lower bound at the same confidence, and the method."""

    lower: float
    upper: float
    lower_bound: float
    confidence: float
    method: str


@dataclass(frozen=True)
class OutOfSpec:
    """Expected parts per million below the LSL, above the USL, and in total (normal model)."""

    below_lsl_ppm: float
    above_usl_ppm: float

    @property
    def total_ppm(self) -> float:
        """Both tails together."""
        return self.below_lsl_ppm + self.above_usl_ppm


@dataclass(frozen=True)
class NormalityCheck:
    """Skewness, excess kurtosis and the Anderson–Darling test against a fitted normal."""

    n: int
    skewness: float
    excess_kurtosis: float
    anderson_darling: float | None
    adjusted_statistic: float | None
    p_value: float | None

    @property
    def normal(self) -> bool | None:
        """False when the test rejects normality at 5 %; None when there are too few values."""
        return None if self.p_value is None else self.p_value >= NORMALITY_ALPHA


@dataclass(frozen=True)
class CapabilityReport:
    """Every number behind the capability judgement of one characteristic."""

    characteristic: str
    n: int
    subgroups: int | None
    subgroup_size: int | None
    spec: SpecLimits
    mean: float
    sigma_within: float
    sigma_method: SigmaMethod
    sigma_overall: float
    cp: float
    cpk: float
    cpl: float
    cpu: float
    pp: float
    ppk: float
    cp_interval: ConfidenceInterval
    cpk_interval: ConfidenceInterval
    offset_to_aim: float
    offset_significant: bool
    cpk_at_aim: float
    out_of_spec_now: OutOfSpec
    out_of_spec_overall: OutOfSpec
    out_of_spec_at_aim: OutOfSpec
    normality: NormalityCheck
    target_cpk: float
    verdict: Verdict
    recommended_offset: float | None
    notes: tuple[str, ...]
    conclusion: str


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
    size = _equal_size(subgroups)
    if method == "range":
        return fmean(max(g) - min(g) for g in subgroups) / d2(size)
    return fmean(stdev(g) for g in subgroups) / c4(size)


def cp(spec: SpecLimits, sigma: float) -> float:
    """Cp (or Pp with the overall sigma) = (USL − LSL) / 6σ."""
    return (spec.usl - spec.lsl) / (6 * _positive_sigma(sigma))


def cpk(spec: SpecLimits, mean: float, sigma: float) -> float:
    """Cpk (or Ppk) = min(USL − mean, mean − LSL) / 3σ."""
    return min(spec.usl - mean, mean - spec.lsl) / (3 * _positive_sigma(sigma))


def cp_interval(cp_hat: float, n: int, confidence: float = 0.95) -> ConfidenceInterval:
    """Chi-square interval for Cp from N values (N − 1 degrees of freedom)."""
    df = _sample_size(n) - 1
    alpha = _alpha(confidence)
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
    alpha = _alpha(confidence)
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


def out_of_spec(spec: SpecLimits, mean: float, sigma: float) -> OutOfSpec:
    """Expected ppm outside the specification for a normal process with this mean and sigma."""
    sigma = _positive_sigma(sigma)
    return OutOfSpec(
        below_lsl_ppm=PPM * float(stats.norm.cdf((spec.lsl - mean) / sigma)),
        above_usl_ppm=PPM * float(stats.norm.sf((spec.usl - mean) / sigma)),
    )


def normality(values: Sequence[float]) -> NormalityCheck:
    """Skewness, excess kurtosis and the Anderson–Darling test of a fitted normal distribution."""
    n = len(values)
    if n < 3:
        raise ValueError(f"need at least 3 values to judge normality; got {n}")
    skewness = float(stats.skew(values))
    kurtosis = float(stats.kurtosis(values))
    if n < MIN_VALUES_FOR_NORMALITY:
        return NormalityCheck(n, skewness, kurtosis, None, None, None)
    a2 = anderson_darling_statistic(values)
    adjusted = a2 * (1 + 0.75 / n + 2.25 / n**2)
    return NormalityCheck(n, skewness, kurtosis, a2, adjusted, anderson_darling_p_value(adjusted))


def anderson_darling_statistic(values: Sequence[float]) -> float:
    """A² of the values against a normal with their mean and sample standard deviation."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    z = (x - x.mean()) / _positive_sigma(float(x.std(ddof=1)))
    weights = 2 * np.arange(1, n + 1) - 1
    terms = stats.norm.logcdf(z) + stats.norm.logsf(z[::-1])
    return float(-n - np.sum(weights * terms) / n)


def anderson_darling_p_value(adjusted: float) -> float:
    """P-value of the adjusted statistic A*² (D'Agostino & Stephens 1986, table 4.9)."""
    a = adjusted
    if a >= 0.6:
        return math.exp(1.2937 - 5.709 * a + 0.0186 * a**2)
    if a >= 0.34:
        return math.exp(0.9177 - 4.279 * a - 1.38 * a**2)
    if a >= 0.2:
        return 1 - math.exp(-8.318 + 42.796 * a - 59.938 * a**2)
    return 1 - math.exp(-13.436 + 101.14 * a - 223.73 * a**2)


def assess_individuals(
    values: Sequence[float],
    spec: SpecLimits,
    *,
    characteristic: str = "characteristic",
    target_cpk: float = DEFAULT_TARGET_CPK,
    confidence: float = 0.95,
) -> CapabilityReport:
    """Capability of individual values; within sigma from the mean moving range / 1.128."""
    values = _finite(values)
    sigma = spc.sigma_from_moving_range(values)
    notes = [] if len(values) >= MIN_VALUES else [_too_few_values(len(values))]
    return _assess(
        values,
        sigma,
        "moving_range",
        spec=spec,
        characteristic=characteristic,
        target_cpk=target_cpk,
        confidence=confidence,
        notes=notes,
    )


def assess_subgroups(
    subgroups: Sequence[Sequence[float]],
    spec: SpecLimits,
    *,
    method: SubgroupSigma = "range",
    characteristic: str = "characteristic",
    target_cpk: float = DEFAULT_TARGET_CPK,
    confidence: float = 0.95,
) -> CapabilityReport:
    """Capability of rational subgroups of equal size; within sigma from R̄/d2 or s̄/c4."""
    size = _equal_size(subgroups)
    values = _finite([x for g in subgroups for x in g])
    sigma = sigma_within_subgroups(subgroups, method)
    notes: list[str] = []
    if len(subgroups) < MIN_SUBGROUPS:
        notes.append(
            f"only {len(subgroups)} subgroups: at least {MIN_SUBGROUPS} are needed to estimate the"
            " within-subgroup sigma (Montgomery recommends 20 to 25 in a preliminary study)"
        )
    if len(values) < MIN_VALUES:
        notes.append(_too_few_values(len(values)))
    return _assess(
        values,
        sigma,
        method,
        spec=spec,
        characteristic=characteristic,
        target_cpk=target_cpk,
        confidence=confidence,
        notes=notes,
        subgroups=len(subgroups),
        subgroup_size=size,
    )


def _assess(
    values: Sequence[float],
    sigma_within: float,
    method: SigmaMethod,
    *,
    spec: SpecLimits,
    characteristic: str,
    target_cpk: float,
    confidence: float,
    notes: list[str],
    subgroups: int | None = None,
    subgroup_size: int | None = None,
) -> CapabilityReport:
    """The indices, intervals, ppm, normality and verdict for values with a known within sigma."""
    if not (math.isfinite(target_cpk) and target_cpk > 0):
        raise ValueError(f"target_cpk {target_cpk!r} must be positive, e.g. 1.33")
    n = len(values)
    if not sigma_within > 0:
        raise ValueError(
            f"the {characteristic} values do not vary within subgroups (sigma 0); a stuck or"
            " too coarse gauge? Capability cannot be judged"
        )
    mean, sigma_overall = fmean(values), stdev(values)
    cp_hat, cpk_hat = cp(spec, sigma_within), cpk(spec, mean, sigma_within)
    aim = spec.aim
    offset = aim - mean
    z = float(stats.norm.ppf(1 - _alpha(confidence) / 2))
    significant = abs(offset) > z * sigma_within / math.sqrt(n)
    cpk_at_aim = cpk(spec, aim, sigma_within)
    cpk_ci = cpk_interval(cpk_hat, n, confidence)
    check = normality(values)
    if check.normal is False:
        notes.append(
            f"the {characteristic} values fail the Anderson–Darling normality test"
            f" (A*² = {check.adjusted_statistic:.3f}, p = {check.p_value:.3f} < 0.05; skewness"
            f" {check.skewness:+.2f}, excess kurtosis {check.excess_kurtosis:+.2f}): the ppm"
            " figures and confidence bounds assume a normal distribution and are not reliable"
        )
    enough = n >= MIN_VALUES and (subgroups is None or subgroups >= MIN_SUBGROUPS)
    verdict = _verdict(enough, cpk_ci.lower_bound, cpk_at_aim, significant, target_cpk)
    report = CapabilityReport(
        characteristic=characteristic,
        n=n,
        subgroups=subgroups,
        subgroup_size=subgroup_size,
        spec=spec,
        mean=mean,
        sigma_within=sigma_within,
        sigma_method=method,
        sigma_overall=sigma_overall,
        cp=cp_hat,
        cpk=cpk_hat,
        cpl=(mean - spec.lsl) / (3 * sigma_within),
        cpu=(spec.usl - mean) / (3 * sigma_within),
        pp=cp(spec, sigma_overall),
        ppk=cpk(spec, mean, sigma_overall),
        cp_interval=cp_interval(cp_hat, n, confidence),
        cpk_interval=cpk_ci,
        offset_to_aim=offset,
        offset_significant=significant,
        cpk_at_aim=cpk_at_aim,
        out_of_spec_now=out_of_spec(spec, mean, sigma_within),
        out_of_spec_overall=out_of_spec(spec, mean, sigma_overall),
        out_of_spec_at_aim=out_of_spec(spec, aim, sigma_within),
        normality=check,
        target_cpk=target_cpk,
        verdict=verdict,
        recommended_offset=offset if verdict == "centre" else None,
        notes=tuple(notes),
        conclusion="",
    )
    return _with_conclusion(report)


def _verdict(
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


def _with_conclusion(r: CapabilityReport) -> CapabilityReport:
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


def _too_few_values(n: int) -> str:
    """Why fewer than MIN_VALUES values cannot support a decision."""
    return (
        f"only {n} values: at least {MIN_VALUES} are needed (with 30, an observed Cpk of 1.33 has"
        " a 95 % lower bound just above 1.0; with fewer the data cannot tell a capable process"
        " from one at Cpk 1.0)"
    )


def _finite(values: Sequence[float]) -> list[float]:
    """The values as a list, refusing non-finite ones and series too short to assess."""
    out = [float(v) for v in values]
    bad = [v for v in out if not math.isfinite(v)]
    if bad:
        raise ValueError(f"{len(bad)} values are not finite numbers (e.g. {bad[0]!r}); drop them")
    if len(out) < 3:
        raise ValueError(f"need at least three values to assess capability; got {len(out)}")
    return out


def _equal_size(subgroups: Sequence[Sequence[float]]) -> int:
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


def _sample_size(n: int) -> int:
    """A sample size an interval can be computed from."""
    if n < 2:
        raise ValueError(f"need at least two values for a confidence interval; got {n}")
    return n


def _alpha(confidence: float) -> float:
    """1 − confidence, refusing confidences outside (0, 1)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence {confidence!r} must lie between 0 and 1, e.g. 0.95")
    return 1 - confidence


def _positive_sigma(sigma: float) -> float:
    """A sigma that can divide."""
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma {sigma!r} must be a positive finite number")
    return sigma

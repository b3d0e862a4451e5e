"""Assess individual values or rational subgroups: validate the data, compute every figure of
the report and note when the data are too few or not normal."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import fmean, stdev

from scipy import stats

from factory_agents.catalog.quality import spc
from factory_agents.catalog.quality.capability.decision import choose_verdict, with_conclusion
from factory_agents.catalog.quality.capability.guards import alpha_for
from factory_agents.catalog.quality.capability.indices import cp, cp_interval, cpk, cpk_interval
from factory_agents.catalog.quality.capability.normality_check import normality
from factory_agents.catalog.quality.capability.ppm import out_of_spec
from factory_agents.catalog.quality.capability.report import CapabilityReport, SigmaMethod
from factory_agents.catalog.quality.capability.sigma import (
    SubgroupSigma,
    equal_size,
    sigma_within_subgroups,
)
from factory_agents.catalog.quality.capability.spec import SpecLimits

MIN_VALUES = 30
MIN_SUBGROUPS = 20
DEFAULT_TARGET_CPK = 1.33


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
    size = equal_size(subgroups)
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
    z = float(stats.norm.ppf(1 - alpha_for(confidence) / 2))
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
    verdict = choose_verdict(enough, cpk_ci.lower_bound, cpk_at_aim, significant, target_cpk)
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
    return with_conclusion(report)


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

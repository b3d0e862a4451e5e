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

from factory_agents.catalog.quality.capability.assess import (
    DEFAULT_TARGET_CPK,
    MIN_SUBGROUPS,
    MIN_VALUES,
    assess_individuals,
    assess_subgroups,
)
from factory_agents.catalog.quality.capability.indices import (
    ConfidenceInterval,
    cp,
    cp_interval,
    cpk,
    cpk_interval,
)
from factory_agents.catalog.quality.capability.normality_check import (
    MIN_VALUES_FOR_NORMALITY,
    NORMALITY_ALPHA,
    NormalityCheck,
    anderson_darling_p_value,
    anderson_darling_statistic,
    normality,
)
from factory_agents.catalog.quality.capability.ppm import PPM, OutOfSpec, out_of_spec
from factory_agents.catalog.quality.capability.report import CapabilityReport, SigmaMethod, Verdict
from factory_agents.catalog.quality.capability.sigma import (
    SubgroupSigma,
    c4,
    d2,
    sigma_within_subgroups,
)
from factory_agents.catalog.quality.capability.spec import SpecLimits

__all__ = [
    "DEFAULT_TARGET_CPK",
    "MIN_SUBGROUPS",
    "MIN_VALUES",
    "MIN_VALUES_FOR_NORMALITY",
    "NORMALITY_ALPHA",
    "PPM",
    "CapabilityReport",
    "ConfidenceInterval",
    "NormalityCheck",
    "OutOfSpec",
    "SigmaMethod",
    "SpecLimits",
    "SubgroupSigma",
    "Verdict",
    "anderson_darling_p_value",
    "anderson_darling_statistic",
    "assess_individuals",
    "assess_subgroups",
    "c4",
    "cp",
    "cp_interval",
    "cpk",
    "cpk_interval",
    "d2",
    "normality",
    "out_of_spec",
    "sigma_within_subgroups",
]

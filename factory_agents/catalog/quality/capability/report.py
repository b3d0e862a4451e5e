"""The capability report of one characteristic: every number behind the judgement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from factory_agents.catalog.quality.capability.indices import ConfidenceInterval
from factory_agents.catalog.quality.capability.normality_check import NormalityCheck
from factory_agents.catalog.quality.capability.ppm import OutOfSpec
from factory_agents.catalog.quality.capability.spec import SpecLimits

SigmaMethod = Literal["moving_range", "range", "stdev"]
Verdict = Literal["capable", "centre", "tighten_inspection", "inconclusive", "insufficient_data"]


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

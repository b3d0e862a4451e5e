"""Expected parts per million outside the specification under the normal model."""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats

from factory_agents.catalog.quality.capability.guards import positive_sigma
from factory_agents.catalog.quality.capability.spec import SpecLimits

PPM = 1_000_000


@dataclass(frozen=True)
class OutOfSpec:
    """Expected parts per million below the LSL, above the USL, and in total (normal model)."""

    below_lsl_ppm: float
    above_usl_ppm: float

    @property
    def total_ppm(self) -> float:
        """Both tails together."""
        return self.below_lsl_ppm + self.above_usl_ppm


def out_of_spec(spec: SpecLimits, mean: float, sigma: float) -> OutOfSpec:
    """Expected ppm outside the specification for a normal process with this mean and sigma."""
    sigma = positive_sigma(sigma)
    return OutOfSpec(
        below_lsl_ppm=PPM * float(stats.norm.cdf((spec.lsl - mean) / sigma)),
        above_usl_ppm=PPM * float(stats.norm.sf((spec.usl - mean) / sigma)),
    )

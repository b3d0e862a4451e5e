"""The two-sided specification of a characteristic and its aim."""

from __future__ import annotations

import math
from dataclasses import dataclass


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

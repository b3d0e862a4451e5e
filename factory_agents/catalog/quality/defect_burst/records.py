"""Input records of a defect-burst analysis and their checks: MES results, lots, bucket counts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Inspection:
    """One quality result from the MES: a characteristic checked against its limits."""

    lot: str | None
    work_order: str
    characteristic: str
    value: float
    lsl: float
    usl: float
    passed: bool
    at: datetime

    def __post_init__(self) -> None:
        aware(self.at, f"inspection time of {self.characteristic} on {self.work_order}")


@dataclass(frozen=True, slots=True)
class ProducedLot:
    """A lot the line produced: how many units, for which work order, from when to when."""

    lot: str
    work_order: str
    quantity: float
    produced_from: datetime
    produced_to: datetime

    def __post_init__(self) -> None:
        aware(self.produced_from, f"production start of lot {self.lot}")
        aware(self.produced_to, f"production end of lot {self.lot}")
        if self.produced_to < self.produced_from:
            raise ValueError(f"lot {self.lot} ends before it starts; fix its production times")
        if not (math.isfinite(self.quantity) and self.quantity >= 0):
            raise ValueError(f"lot {self.lot} quantity {self.quantity!r} must be 0 or more")


@dataclass(frozen=True, slots=True)
class BucketCount:
    """Results of one bucket: its key, first and last result time, counts, lots and orders."""

    key: str
    start: datetime
    end: datetime
    inspected: int
    defective: int
    lots: tuple[str, ...] = ()
    work_orders: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.defective <= self.inspected or self.inspected == 0:
            raise ValueError(
                f"bucket {self.key}: {self.defective} defective of {self.inspected} inspected;"
                " a bucket needs results and cannot have more defectives than results"
            )


def aware(moment: datetime, what: str) -> None:
    """Refuse naive datetimes: MES times are compared across systems in UTC."""
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware (UTC); got a naive datetime {moment}")

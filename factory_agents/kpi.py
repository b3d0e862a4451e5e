"""ISO 22400-2:2014 manufacturing KPIs as small functions over the standard's named elements.

The element names and abbreviations are the standard's:

- time elements (any one time unit, the same for every argument; `LineKpis` uses seconds):
  PBT planned busy time, APT actual production time, ADOT actual unit down time, AUST actual
  unit setup time, PRI planned run time per item, TBF operating time between failures,
  TTR time to restoration (of one failure);
- quantity elements (units): PQ produced quantity, GQ good quantity, SQ scrap quantity,
  RQ rework quantity, GP good parts (first pass), IP inspected parts; EC energy consumption.

The KPIs, as ISO 22400-2 defines them:

| KPI | formula |
|---|---|
| availability | APT / PBT |
| effectiveness | PRI × PQ / APT |
| quality ratio | GQ / PQ |
| OEE index | availability × effectiveness × quality ratio |
| scrap ratio, rework ratio | SQ / PQ, RQ / PQ |
| first pass yield (FPY) | GP / IP: good parts in the first run (no rework) / inspected parts |
| mean operating time between failures (MTBF) | mean TBF = operating time / failures |
| mean time to restoration (MTTR) | mean of the TTRs |
| energy per unit (comprehensive energy consumption) | EC / PQ, here in kWh per unit |

Clause numbers are not cited: the standard's normative text is not public. The formulas were
checked against OPC UA for Machine Tools v1.01, Annex C.2.4 (which quotes availability,
effectiveness and quality rate from ISO 22400-2:2014) and against the KPI descriptions of
ISO 22400-2 as transcribed in the Helmut Schmidt University's ISO 22400-2 ontology design
pattern (FPY = GP / IP; MTBF and MTTR as means of TBF and TTR; energy over produced quantity).

Two kinds of bad input are told apart:

- impossible elements (a negative time or count, a non-finite number, APT > PBT, GQ > PQ,
  SQ + RQ > PQ, PRI × PQ > APT, GP > IP) raise `ValueError` with what to check;
- a zero denominator from a real state of the line (no planned busy time, nothing produced,
  nothing inspected, no failure, no repair) makes the KPI undefined: the function returns
  None, and so does every KPI built on it (an OEE index of an idle period is None, not 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean

SECONDS_PER_HOUR = 3600.0


def availability(apt: float, pbt: float) -> float | None:
    """Availability = APT / PBT; None when there was no planned busy time."""
    _non_negative(apt=apt, pbt=pbt)
    if apt > pbt:
        raise ValueError(
            f"APT {apt:g} exceeds PBT {pbt:g}: actual production time lies within planned busy"
            " time; check the period and the stops that were subtracted"
        )
    return None if pbt == 0 else apt / pbt


def effectiveness(pri: float, pq: float, apt: float) -> float | None:
    """Effectiveness = PRI × PQ / APT; None when the line did not run (APT = 0)."""
    _non_negative(pq=pq, apt=apt)
    _positive(pri=pri)
    planned = pri * pq
    if planned > apt * (1 + 1e-12):
        raise ValueError(
            f"PRI × PQ = {planned:g} exceeds APT {apt:g}: the line made {pq:g} units faster than"
            f" its planned run time per item {pri:g} allows; check PRI (the planned cycle time)"
            " or the produced count"
        )
    if apt == 0:
        return None
    return min(planned / apt, 1.0)


def quality_ratio(gq: float, pq: float) -> float | None:
    """Quality ratio = GQ / PQ; None when nothing was produced."""
    return _ratio(gq, pq, "GQ", "PQ")


def oee_index(
    availability_: float | None, effectiveness_: float | None, quality_ratio_: float | None
) -> float | None:
    """OEE index = availability × effectiveness × quality ratio; None if any factor is None."""
    factors = {
        "availability": availability_,
        "effectiveness": effectiveness_,
        "quality ratio": quality_ratio_,
    }
    product = 1.0
    for name, value in factors.items():
        if value is None:
            return None
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise ValueError(f"{name} {value!r} must be a fraction between 0 and 1")
        product *= value
    return product


def scrap_ratio(sq: float, pq: float) -> float | None:
    """Scrap ratio = SQ / PQ; None when nothing was produced."""
    return _ratio(sq, pq, "SQ", "PQ")


def rework_ratio(rq: float, pq: float) -> float | None:
    """Rework ratio = RQ / PQ; None when nothing was produced."""
    return _ratio(rq, pq, "RQ", "PQ")


def first_pass_yield(gp: float, ip: float) -> float | None:
    """FPY = GP / IP: good parts first time (no rework) over inspected parts; None if IP = 0."""
    return _ratio(gp, ip, "GP", "IP")


def mtbf(operating_time: float, failures: int) -> float | None:
    """MTBF = operating time / number of failures (the mean TBF); None without failures."""
    _non_negative(operating_time=operating_time, failures=failures)
    if failures != int(failures):
        raise ValueError(f"failures {failures!r} must be a whole number of failure events")
    return None if failures == 0 else operating_time / failures


def mtbf_of(times_between_failures: Sequence[float]) -> float | None:
    """MTBF as the mean of the observed TBFs; None when there is no TBF."""
    _non_negative(**{f"TBF[{i}]": t for i, t in enumerate(times_between_failures)})
    return fmean(times_between_failures) if times_between_failures else None


def mttr(times_to_restoration: Sequence[float]) -> float | None:
    """MTTR = mean of the TTRs (time to restoration, per failure); None without failures."""
    _non_negative(**{f"TTR[{i}]": t for i, t in enumerate(times_to_restoration)})
    return fmean(times_to_restoration) if times_to_restoration else None


def energy_per_unit(energy_kwh: float, pq: float) -> float | None:
    """Energy per unit = EC / PQ in kWh per unit; None when nothing was produced."""
    _non_negative(energy_kwh=energy_kwh, pq=pq)
    return None if pq == 0 else energy_kwh / pq


@dataclass(frozen=True)
class LineElements:
    """The ISO 22400-2 elements of one line over one period (times in seconds, energy in kWh)."""

    line: str
    pbt: float
    apt: float
    pri: float
    pq: float
    sq: float = 0.0
    rq: float = 0.0
    gp: float | None = None
    ip: float | None = None
    times_to_restoration: tuple[float, ...] = ()
    failures: int | None = None
    energy_kwh: float | None = None
    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        _non_negative(pbt=self.pbt, apt=self.apt, pq=self.pq, sq=self.sq, rq=self.rq)
        if self.start is not None and self.end is not None:
            length = (self.end - self.start).total_seconds()
            if length <= 0:
                raise ValueError(f"the period of {self.line} must end after it starts")
            if self.pbt > length:
                raise ValueError(
                    f"PBT {self.pbt:g} s is longer than the period of {self.line} ({length:g} s);"
                    " planned busy time lies within the period"
                )
        if self.sq + self.rq > self.pq:
            raise ValueError(
                f"SQ {self.sq:g} + RQ {self.rq:g} exceed PQ {self.pq:g} on {self.line}: scrap and"
                " rework are part of the produced quantity; check the counters"
            )
        if self.failures is not None and self.failures < len(self.times_to_restoration):
            raise ValueError(
                f"{self.failures} failures but {len(self.times_to_restoration)} times to"
                " restoration: every restored failure is a failure; count open ones too"
            )
        if (self.gp is None) != (self.ip is None):
            raise ValueError(
                "give both GP (good first-pass parts) and IP (inspected parts), or neither"
            )

    @property
    def failure_count(self) -> int:
        """Failures in the period: as given, else one per time to restoration."""
        return len(self.times_to_restoration) if self.failures is None else self.failures

    @property
    def gq(self) -> float:
        """GQ = PQ − SQ − RQ: produced units that met the requirements without rework."""
        return self.pq - self.sq - self.rq


@dataclass(frozen=True)
class LineKpis:
    """Every KPI of one line over one period, with the elements it was computed from."""

    elements: LineElements
    availability: float | None
    effectiveness: float | None
    quality_ratio: float | None
    oee_index: float | None
    scrap_ratio: float | None
    rework_ratio: float | None
    first_pass_yield: float | None
    mtbf_hours: float | None
    mttr_hours: float | None
    energy_kwh_per_unit: float | None

    @classmethod
    def of(cls, e: LineElements) -> LineKpis:
        """Compute all KPIs of the elements; MTBF uses APT as the operating time."""
        a = availability(e.apt, e.pbt)
        p = effectiveness(e.pri, e.pq, e.apt)
        q = quality_ratio(e.gq, e.pq)
        mtbf_seconds = mtbf(e.apt, e.failure_count)
        mttr_seconds = mttr(e.times_to_restoration)
        return cls(
            elements=e,
            availability=a,
            effectiveness=p,
            quality_ratio=q,
            oee_index=oee_index(a, p, q),
            scrap_ratio=scrap_ratio(e.sq, e.pq),
            rework_ratio=rework_ratio(e.rq, e.pq),
            first_pass_yield=(
                None if e.gp is None or e.ip is None else first_pass_yield(e.gp, e.ip)
            ),
            mtbf_hours=None if mtbf_seconds is None else mtbf_seconds / SECONDS_PER_HOUR,
            mttr_hours=None if mttr_seconds is None else mttr_seconds / SECONDS_PER_HOUR,
            energy_kwh_per_unit=(
                None if e.energy_kwh is None else energy_per_unit(e.energy_kwh, e.pq)
            ),
        )


def _ratio(part: float, whole: float, part_name: str, whole_name: str) -> float | None:
    """part / whole for two counts where the part is contained in the whole."""
    _non_negative(**{part_name: part, whole_name: whole})
    if part > whole:
        raise ValueError(
            f"{part_name} {part:g} exceeds {whole_name} {whole:g}: {part_name} is part of"
            f" {whole_name}; check the counters"
        )
    return None if whole == 0 else part / whole


def _non_negative(**elements: float) -> None:
    """Refuse negative or non-finite elements, naming the first one."""
    for name, value in elements.items():
        if not math.isfinite(value):
            raise ValueError(f"{name} {value!r} is not a finite number; check the data source")
        if value < 0:
            raise ValueError(f"{name} {value:g} is negative; times and quantities cannot be")


def _positive(**elements: float) -> None:
    """Refuse zero, negative or non-finite elements."""
    _non_negative(**elements)
    for name, value in elements.items():
        if value == 0:
            raise ValueError(f"{name} must be positive; set the planned run time per item")

"""Time-of-use tariffs on a grid of time slots: price bands that tile the day, and a demand charge.

Bands are local wall-clock times in the tariff's time zone, the same every day (weekends and
holidays are not modelled): each band runs from its start (included) to its end (excluded),
an end at or before the start wraps past midnight, and start == end is the whole day. The
bands must tile the 24 hours with no gap and no overlap. An optional demand charge is a price
per kW of the billing period's highest slot-average demand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class SlotGrid:
    """Equal time slots from an aware start; slot_minutes divides the day."""

    start: datetime
    slot_minutes: int
    slots: int

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("the grid's start must be timezone-aware; got a naive datetime")
        if not 0 < self.slot_minutes <= MINUTES_PER_DAY or MINUTES_PER_DAY % self.slot_minutes:
            raise ValueError(
                f"slot_minutes must divide the day (e.g. 15, 30, 60), got {self.slot_minutes}"
            )
        if self.slots < 1:
            raise ValueError(f"the grid needs at least one slot, got {self.slots}")

    @property
    def hours_per_slot(self) -> float:
        """The length of one slot in hours."""
        return self.slot_minutes / 60

    @property
    def end(self) -> datetime:
        """The end of the last slot."""
        return self.slot_start(self.slots)

    def slot_start(self, index: int) -> datetime:
        """When slot `index` begins (index == slots gives the grid's end)."""
        return self.start + timedelta(minutes=self.slot_minutes * index)

    def slots_within(self, earliest: datetime, deadline: datetime) -> range:
        """The slots lying wholly inside [earliest, deadline], clipped to the grid."""
        step = timedelta(minutes=self.slot_minutes)
        first = max(0, -((self.start - earliest) // step))  # ceil((earliest - start) / step)
        last = min(self.slots, (deadline - self.start) // step)
        return range(first, max(first, last))


@dataclass(frozen=True, slots=True)
class TariffBand:
    """One price band, e.g. peak 08:00 to 20:00 at 0.31 per kWh."""

    name: str
    start: time
    end: time
    price_per_kwh: Decimal

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a tariff band needs a name, e.g. 'peak'")
        for which in (self.start, self.end):
            if which.second or which.microsecond or which.tzinfo is not None:
                raise ValueError(
                    f"band {self.name!r}: times are whole minutes of local time without a"
                    f" time zone, got {which.isoformat()}"
                )
        price = self.price_per_kwh
        if not isinstance(price, Decimal) or not price.is_finite() or price < 0:
            raise ValueError(
                f"band {self.name!r}: price_per_kwh must be a Decimal >= 0, got {price!r}"
            )

    def minutes(self) -> list[tuple[int, int]]:
        """The band as [start, end) minute-of-day intervals (two when it wraps midnight)."""
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        if end > start:
            return [(start, end)]
        return [(start, MINUTES_PER_DAY), (0, end)] if end else [(start, MINUTES_PER_DAY)]


@dataclass(frozen=True, slots=True)
class TimeOfUseTariff:
    """Prices per kWh by local time of day, in one currency, with an optional demand charge."""

    bands: tuple[TariffBand, ...]
    currency: str
    timezone: str = "UTC"
    demand_charge_per_kw: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if not _CURRENCY.match(self.currency):
            raise ValueError(f"currency must be an ISO 4217 code like 'EUR', got {self.currency!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(
                f"unknown time zone {self.timezone!r}; use an IANA name like 'Europe/Berlin'"
            ) from err
        charge = self.demand_charge_per_kw
        if not isinstance(charge, Decimal) or not charge.is_finite() or charge < 0:
            raise ValueError(f"demand_charge_per_kw must be a Decimal >= 0, got {charge!r}")
        if not self.bands:
            raise ValueError("a tariff needs at least one band")
        _check_tiling(self._segments())

    def _segments(self) -> list[tuple[int, int, TariffBand]]:
        segments = [(s, e, band) for band in self.bands for s, e in band.minutes()]
        return sorted(segments, key=lambda seg: (seg[0], seg[1]))

    def band_at(self, moment: datetime) -> TariffBand:
        """The band in force at an aware moment."""
        minute = _minute_of_day(moment, self.timezone)
        return next(band for s, e, band in self._segments() if s <= minute < e)

    def slot_prices(self, grid: SlotGrid) -> tuple[Decimal, ...]:
        """The price per kWh of every slot; the price must not change within a slot."""
        prices = []
        for i in range(grid.slots):
            begin = grid.slot_start(i)
            band = self.band_at(begin)
            start_minute = _minute_of_day(begin, self.timezone)
            for other in self.bands:
                offset = (other.start.hour * 60 + other.start.minute - start_minute) % 1440
                if 0 < offset < grid.slot_minutes and other.price_per_kwh != band.price_per_kwh:
                    raise ValueError(
                        f"slot {i} ({begin.isoformat()}, {grid.slot_minutes} min) straddles the"
                        f" change from {band.name!r} to {other.name!r} at"
                        f" {other.start:%H:%M} {self.timezone}; use slots that divide the band"
                        " boundaries"
                    )
            prices.append(band.price_per_kwh)
        return tuple(prices)


def _minute_of_day(moment: datetime, timezone: str) -> float:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware; got a naive datetime")
    local = moment.astimezone(ZoneInfo(timezone))
    return local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60


def _check_tiling(segments: list[tuple[int, int, TariffBand]]) -> None:
    """Raise when the bands leave a gap or overlap anywhere in the day."""
    reach, last = 0, None
    for start, end, band in segments:
        if start > reach:
            raise ValueError(
                f"no band covers {_hhmm(reach)} to {_hhmm(start)}; add a band or extend one"
            )
        if start < reach and last is not None:
            raise ValueError(
                f"bands {last.name!r} and {band.name!r} overlap from {_hhmm(start)} to"
                f" {_hhmm(min(reach, end))}; every minute of the day needs exactly one band"
            )
        reach, last = end, band
    if reach < MINUTES_PER_DAY:
        raise ValueError(f"no band covers {_hhmm(reach)} to 24:00; add a band or extend one")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"

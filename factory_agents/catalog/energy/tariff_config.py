"""A site's time-of-use tariff as configuration: real bands, or a daily shape compressed in time.

A real site gives its contract's bands in local time (`bands`). The simulated site cannot wait
a day for the night band: its tariff is a *compressed day* (`compressed_day`), the usual daily
shape (night, shoulder, peak, shoulder) squeezed into a few real minutes and repeated from
midnight all day long. It is still an ordinary wall-clock tariff: every band is whole real
minutes, every slot a real-time slot, and meter readings, plans and savings are stamped in
real time like everything else on the platform. Only the prices move faster than a real
tariff's; the simulator's speed plays no part in it.

Example (a real two-band tariff with a demand charge)::

    TariffConfig(
        bands=(
            TariffBandConfig(name="day", start=time(6), end=time(22), price_per_kwh="0.28"),
            TariffBandConfig(name="night", start=time(22), end=time(6), price_per_kwh="0.12"),
        ),
        timezone="Europe/Berlin",
        demand_charge_per_kw=Decimal("9.50"),
    )
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from factory_agents.catalog.energy.tariff import MINUTES_PER_DAY, TariffBand, TimeOfUseTariff


class TariffBandConfig(BaseModel):
    """One band of a real tariff: local start and end time, price per kWh."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    start: time
    end: time
    price_per_kwh: Decimal = Field(ge=0)


class CompressedBand(BaseModel):
    """One band of a compressed day: how many real minutes it lasts, and its price per kWh."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    minutes: int = Field(ge=1)
    price_per_kwh: Decimal = Field(ge=0)


SIMULATED_DAY = (
    CompressedBand(name="night", minutes=1, price_per_kwh=Decimal("0.11")),
    CompressedBand(name="morning shoulder", minutes=1, price_per_kwh=Decimal("0.19")),
    CompressedBand(name="peak", minutes=1, price_per_kwh=Decimal("0.32")),
    CompressedBand(name="evening shoulder", minutes=1, price_per_kwh=Decimal("0.19")),
)
"""The simulated site's day in four real minutes: night, morning, peak and evening bands."""


class TariffConfig(BaseModel):
    """The site's tariff: `bands` of a real contract, or else `compressed_day` repeated all day."""

    model_config = ConfigDict(frozen=True)

    currency: str = "EUR"
    timezone: str = "UTC"
    demand_charge_per_kw: Decimal = Field(
        Decimal("0.004"),
        ge=0,
        description="Per kW of the billing period's highest slot-average demand above the"
        " peak already reached (the simulated site's is scaled to its compressed day)",
    )
    bands: tuple[TariffBandConfig, ...] = ()
    compressed_day: tuple[CompressedBand, ...] = SIMULATED_DAY

    @model_validator(mode="after")
    def _day_fits(self) -> TariffConfig:
        if not self.bands:
            length = sum(band.minutes for band in self.compressed_day)
            if not self.compressed_day or MINUTES_PER_DAY % length:
                raise ValueError(
                    f"a compressed day must last a divisor of 1440 minutes (e.g. 4, 6, 12),"
                    f" got {length}; or give the real tariff's bands"
                )
        self.build()  # every other problem (gaps, overlaps, currency, zone) is the tariff's
        return self

    @property
    def compressed(self) -> bool:
        """True when the prices follow a compressed day rather than a real tariff's bands."""
        return not self.bands

    def build(self) -> TimeOfUseTariff:
        """The tariff these settings describe."""
        bands = (
            tuple(TariffBand(b.name, b.start, b.end, b.price_per_kwh) for b in self.bands)
            if self.bands
            else _repeated(self.compressed_day)
        )
        return TimeOfUseTariff(bands, self.currency, self.timezone, self.demand_charge_per_kw)

    def describe(self) -> str:
        """The tariff in one line, for assumptions and titles."""
        if self.bands:
            shape = ", ".join(
                f"{b.name} {b.start:%H:%M}-{b.end:%H:%M} {b.price_per_kwh}" for b in self.bands
            )
            return f"time-of-use tariff ({shape} {self.currency}/kWh, {self.timezone})"
        length = sum(b.minutes for b in self.compressed_day)
        shape = ", ".join(
            f"{b.name} {b.minutes} min at {b.price_per_kwh}" for b in self.compressed_day
        )
        return (
            f"simulated tariff: a daily price shape compressed into {length} real minutes and"
            f" repeated from midnight {self.timezone} ({shape} {self.currency}/kWh)"
        )


def _repeated(day: tuple[CompressedBand, ...]) -> tuple[TariffBand, ...]:
    """The compressed day's bands laid end to end from midnight until the day is full."""
    bands = []
    minute = 0
    while minute < MINUTES_PER_DAY:
        for band in day:
            end = minute + band.minutes
            bands.append(
                TariffBand(
                    band.name, _clock(minute), _clock(end % MINUTES_PER_DAY), band.price_per_kwh
                )
            )
            minute = end
    return tuple(bands)


def _clock(minute: int) -> time:
    return time(minute // 60, minute % 60)

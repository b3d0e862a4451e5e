"""Time-of-use tariffs: bands that tile the day, local time, and slots that fit the bands."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from factory_agents.catalog.energy.tariff import SlotGrid, TariffBand, TimeOfUseTariff

DAY = TariffBand("day", time(6), time(22), Decimal("0.30"))
NIGHT = TariffBand("night", time(22), time(6), Decimal("0.10"))


def at(hour: int, minute: int = 0, day: int = 23, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_a_band_that_wraps_midnight_prices_both_sides_of_it() -> None:
    tariff = TimeOfUseTariff((DAY, NIGHT), "EUR")
    assert tariff.band_at(at(23)).name == "night"
    assert tariff.band_at(at(5, 59)).name == "night"
    assert tariff.band_at(at(6)).name == "day"
    assert tariff.band_at(at(21, 59)).name == "day"


def test_slot_prices_follow_the_bands() -> None:
    tariff = TimeOfUseTariff((DAY, NIGHT), "EUR")
    prices = tariff.slot_prices(SlotGrid(at(20), 30, 6))  # 20:00 to 23:00
    assert prices == (Decimal("0.30"),) * 4 + (Decimal("0.10"),) * 2


def test_bands_are_local_wall_clock_time_across_daylight_saving() -> None:
    # Berlin is UTC+1 in winter, UTC+2 from 29 March 2026 (EU summer time starts on the last
    # Sunday of March): 05:30 UTC is 06:30 local (day) on the 28th and 07:30 local (day) on
    # the 29th; 04:30 UTC is 05:30 local (night) on the 28th but 06:30 local (day) on the 29th.
    tariff = TimeOfUseTariff((DAY, NIGHT), "EUR", timezone="Europe/Berlin")
    assert tariff.band_at(at(4, 30, day=28, month=3)).name == "night"
    assert tariff.band_at(at(4, 30, day=29, month=3)).name == "day"
    assert tariff.band_at(at(5, 30, day=28, month=3)).name == "day"
    # 21:00 UTC in November is 22:00 in Berlin: night
    assert tariff.band_at(at(21)).name == "night"


def test_a_single_band_with_start_equal_to_end_is_a_flat_tariff() -> None:
    flat = TimeOfUseTariff((TariffBand("flat", time(0), time(0), Decimal("0.2")),), "EUR")
    assert flat.slot_prices(SlotGrid(at(0), 60, 24)) == (Decimal("0.2"),) * 24
    two_halves = TimeOfUseTariff(
        (
            TariffBand("night", time(0), time(6), Decimal("0.1")),
            TariffBand("night", time(22), time(0), Decimal("0.1")),
            TariffBand("day", time(6), time(22), Decimal("0.3")),
        ),
        "EUR",
    )
    # a slot over midnight sees the same price on both sides: accepted
    assert two_halves.slot_prices(SlotGrid(at(23, 30), 60, 1)) == (Decimal("0.1"),)


def test_gaps_and_overlaps_are_refused_with_their_times() -> None:
    with pytest.raises(ValueError, match="no band covers 22:00 to 23:00"):
        TimeOfUseTariff((DAY, TariffBand("night", time(23), time(6), Decimal("0.1"))), "EUR")
    with pytest.raises(ValueError, match="'day' and 'peak' overlap from 17:00 to 20:00"):
        TimeOfUseTariff(
            (DAY, NIGHT, TariffBand("peak", time(17), time(20), Decimal("0.45"))), "EUR"
        )
    with pytest.raises(ValueError, match="no band covers 00:00 to 06:00"):
        TimeOfUseTariff((DAY, TariffBand("late", time(22), time(0), Decimal("0.1"))), "EUR")


def test_a_slot_straddling_a_price_change_is_refused() -> None:
    tariff = TimeOfUseTariff((DAY, NIGHT), "EUR")
    with pytest.raises(ValueError, match="straddles the change from 'day' to 'night' at 22:00"):
        tariff.slot_prices(SlotGrid(at(21, 30), 60, 2))


def test_bad_currency_zone_prices_and_grids_are_refused() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        TimeOfUseTariff((DAY, NIGHT), "euro")
    with pytest.raises(ValueError, match="unknown time zone"):
        TimeOfUseTariff((DAY, NIGHT), "EUR", timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="demand_charge_per_kw"):
        TimeOfUseTariff((DAY, NIGHT), "EUR", demand_charge_per_kw=Decimal("-1"))
    with pytest.raises(ValueError, match="price_per_kwh must be a Decimal >= 0"):
        TariffBand("day", time(6), time(22), 0.3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="whole minutes"):
        TariffBand("day", time(6, 0, 30), time(22), Decimal("0.3"))
    with pytest.raises(ValueError, match="divide the day"):
        SlotGrid(at(0), 7, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        SlotGrid(datetime(2026, 11, 23), 60, 10)


def test_slots_within_a_window_are_the_whole_slots_inside_it() -> None:
    grid = SlotGrid(at(12), 60, 24)
    assert grid.slots_within(at(18), at(22)) == range(6, 10)
    assert grid.slots_within(at(18, 10), at(21, 50)) == range(7, 9)  # partial slots excluded
    assert grid.slots_within(at(8), at(14)) == range(0, 2)  # available before the grid: now
    assert grid.end == at(12) + timedelta(hours=24)

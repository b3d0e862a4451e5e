"""Money, horizons and time left read the way people say them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from dashboards.formatting import hours, money, percent, time_left


def test_money_has_separators_two_decimals_and_currency() -> None:
    assert money(Decimal("1234.5"), "EUR") == "1,234.50 EUR"
    assert money(0.005, "USD") == "0.00 USD"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (4 / 3600, "4 s"),
        (0.25, "15 min"),
        (1.0, "1 h"),
        (8.0, "8 h"),
        (1.5, "1.5 h"),
        (72.0, "3 d"),
        (60.0, "2.5 d"),
    ],
)
def test_hours_use_the_unit_a_person_would(value: float, shown: str) -> None:
    assert hours(value) == shown


@pytest.mark.parametrize(
    ("remaining", "shown"),
    [
        (timedelta(seconds=-1), "expired"),
        (timedelta(seconds=30), "under a minute"),
        (timedelta(minutes=9, seconds=59), "9 min"),
        (timedelta(hours=1, minutes=5), "1 h 05 min"),
    ],
)
def test_time_left_counts_down_to_expiry(remaining: timedelta, shown: str) -> None:
    assert time_left(remaining) == shown


def test_percent_is_whole_or_a_dash_when_undefined() -> None:
    assert percent(0.9666) == "97%"
    assert percent(None) == "—"

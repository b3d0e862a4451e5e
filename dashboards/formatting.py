"""How the board writes money, durations and horizons for people to read."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal


def money(amount: Decimal | float, currency: str) -> str:
    """An amount with thousands separators, two decimals and its currency: `1,234.50 EUR`."""
    return f"{Decimal(str(amount)).quantize(Decimal('0.01')):,} {currency}"


def hours(value: float) -> str:
    """A duration given in hours, in the unit a person would use: `4 s`, `45 min`, `8 h`, `3 d`."""
    if value * 60 < 1:
        return f"{value * 3600:.0f} s"
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:g} h" if value == int(value) else f"{value:.1f} h"
    return f"{value / 24:.1f} d".replace(".0 d", " d")


def time_left(remaining: timedelta) -> str:
    """Time until a deadline: `1 h 05 min`, `4 min`, `under a minute`, or `expired`."""
    seconds = int(remaining.total_seconds())
    if seconds <= 0:
        return "expired"
    if seconds < 60:
        return "under a minute"
    minutes, _ = divmod(seconds, 60)
    whole_hours, minutes = divmod(minutes, 60)
    if whole_hours == 0:
        return f"{minutes} min"
    return f"{whole_hours} h {minutes:02d} min"


def percent(value: float | None) -> str:
    """A fraction as a whole percentage (`97%`), or a dash when it is not defined."""
    return "—" if value is None else f"{value:.0%}"

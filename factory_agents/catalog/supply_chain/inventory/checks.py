"""Argument checks shared by the inventory models, each failing with what to change."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

_CENTS = Decimal("0.01")


def require_finite(name: str, value: float) -> float:
    """`value` as a float, or ValueError naming it if it is NaN or infinite."""
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return float(value)


def require_positive(name: str, value: float, hint: str = "") -> float:
    """`value`, or ValueError naming it (with `hint`) unless it is above zero."""
    value = require_finite(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}" + (f"; {hint}" if hint else ""))
    return value


def require_non_negative(name: str, value: float, hint: str = "") -> float:
    """`value`, or ValueError naming it (with `hint`) if it is below zero."""
    value = require_finite(name, value)
    if value < 0:
        raise ValueError(
            f"{name} must not be negative, got {value}" + (f"; {hint}" if hint else "")
        )
    return value


def require_probability(name: str, value: float) -> float:
    """`value`, or ValueError naming it unless it lies strictly between 0 and 1."""
    value = require_finite(name, value)
    if not 0 < value < 1:
        raise ValueError(
            f"{name} must lie strictly between 0 and 1, got {value}; give it as a fraction"
            " (0.95, not 95), and below 1 because no finite stock reaches 100 %"
        )
    return value


def cents(value: float) -> Decimal:
    """An amount rounded to cents (half to even), as a Decimal."""
    return Decimal(repr(value)).quantize(_CENTS, rounding=ROUND_HALF_EVEN)

"""The standard normal loss functions G(k), G2(k) and the inverse of G."""

from __future__ import annotations

import math
from statistics import NormalDist

from scipy.optimize import brentq

from factory_agents.catalog.supply_chain.inventory.checks import require_finite, require_positive

STANDARD_NORMAL = NormalDist()
_LOSS_SEARCH_LIMIT = 10.0  # G(10) ≈ 7.7e-26: any useful target lies below this safety factor


def standard_normal_loss(k: float) -> float:
    """G(k) = φ(k) − k·(1 − Φ(k)) = E[(Z − k)⁺]: expected units short per σ at safety factor k."""
    k = require_finite("safety factor k", k)
    upper_tail = 0.5 * math.erfc(k / math.sqrt(2.0))
    return max(0.0, STANDARD_NORMAL.pdf(k) - k * upper_tail)


def second_order_standard_normal_loss(k: float) -> float:
    """G₂(k) = ∫ₖ^∞ G(x) dx = ½·[(1 + k²)·(1 − Φ(k)) − k·φ(k)] (average backorders over a cycle)."""
    k = require_finite("safety factor k", k)
    upper_tail = 0.5 * math.erfc(k / math.sqrt(2.0))
    return max(0.0, 0.5 * ((1 + k * k) * upper_tail - k * STANDARD_NORMAL.pdf(k)))


def inverse_standard_normal_loss(loss: float) -> float:
    """The safety factor k with G(k) = loss; G falls from +∞ to 0, so k is unique for loss > 0."""
    loss = require_positive(
        "the standard normal loss G(k)", loss, "a zero shortage needs an infinite safety stock"
    )
    if loss <= standard_normal_loss(_LOSS_SEARCH_LIMIT):
        raise ValueError(
            f"G(k) = {loss} asks for a safety factor above {_LOSS_SEARCH_LIMIT}; lower the service"
            " target or check the units of the order quantity and σ"
        )
    low = -loss - 1.0  # G(k) ≥ −k (Jensen), so G(low) ≥ loss + 1 > loss
    root = brentq(
        lambda k: standard_normal_loss(k) - loss, low, _LOSS_SEARCH_LIMIT, xtol=1e-12, rtol=1e-14
    )
    return float(root)

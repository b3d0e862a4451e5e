"""Input guards shared by the capability calculations: a usable confidence and sigma."""

from __future__ import annotations

import math


def alpha_for(confidence: float) -> float:
    """1 − confidence, refusing confidences outside (0, 1)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence {confidence!r} must lie between 0 and 1, e.g. 0.95")
    return 1 - confidence


def positive_sigma(sigma: float) -> float:
    """A sigma that can divide."""
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma {sigma!r} must be a positive finite number")
    return sigma

"""Remaining useful life from a rising health indicator: linear or exponential trend to a threshold.

Both models are straight-line least-squares fits: the linear model y = a + b t on the
indicator, the exponential model y = a e^(b t) on ln y (multiplicative noise). The model
with the lower AIC on the indicator's own scale wins (the exponential model's likelihood
carries the Jacobian of the log, 2 sum ln y; both models have three parameters, so this is
a fair comparison). Failure is the fitted trend reaching the threshold; with the regression's
standard errors, the trend's value at time t has a Student t distribution with n - 2 degrees
of freedom (also the exact posterior under the reference prior p(a, b, sigma) ∝ 1/sigma), so

    P(trend >= threshold at t) = 1 - T_(n-2)((h - yhat(t)) / se(t)),
    se(t) = s sqrt(1/n + (t - tbar)² / Sxx),   h = threshold (ln threshold for exponential).

The interval for the crossing time is the set of t whose confidence band contains the
threshold (Fieller's inverse regression), bounded exactly when the slope is significant at
(1 - confidence) / 2 one-sided; otherwise the estimate is "no trend".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

TrendModel = Literal["linear", "exponential"]


@dataclass(frozen=True, slots=True)
class TrendFit:
    """A straight-line least-squares fit of the indicator (linear) or of its log (exponential).

    `aic` is n ln(SSE/n) + 2 * 3 (+ 2 sum ln y for the exponential model), leaving out the
    constant n (ln 2 pi + 1) that both models share.
    """

    model: TrendModel
    points: int
    intercept: float
    slope: float
    slope_se: float
    residual_sd: float
    t_mean: float
    sxx: float
    aic: float

    @property
    def dof(self) -> int:
        """Residual degrees of freedom, n - 2."""
        return self.points - 2

    @property
    def slope_p_value(self) -> float:
        """One-sided p-value of the slope being > 0 (degradation)."""
        if self.slope_se == 0:
            return 0.0 if self.slope > 0 else 1.0
        return float(stats.t.sf(self.slope / self.slope_se, self.dof))

    def transform(self, value: float) -> float:
        """The indicator on the scale the line is fitted on."""
        return math.log(value) if self.model == "exponential" else value

    def trend_at(self, t: float) -> float:
        """The fitted trend at time t, on the indicator's scale."""
        line = self.intercept + self.slope * t
        return math.exp(line) if self.model == "exponential" else line

    def trend_se(self, t: float) -> float:
        """Standard error of the fitted line at time t (on the fitted scale)."""
        return self.residual_sd * math.sqrt(1 / self.points + (t - self.t_mean) ** 2 / self.sxx)

    def probability_reached(self, threshold: float, t: float) -> float:
        """P(the trend is at or above the threshold at time t) from the Student t distribution."""
        gap = self.transform(threshold) - (self.intercept + self.slope * t)
        se = self.trend_se(t)
        if se == 0:
            return 1.0 if gap <= 0 else 0.0
        return float(stats.t.sf(gap / se, self.dof))

    def crossing(self, threshold: float) -> float:
        """The time at which the fitted trend reaches the threshold (slope must be > 0)."""
        if not self.slope > 0:
            raise ValueError(f"the {self.model} trend does not rise (slope {self.slope:g})")
        return (self.transform(threshold) - self.intercept) / self.slope

    def crossing_interval(self, threshold: float, confidence: float) -> tuple[float, float]:
        """Fieller interval for the crossing time: t where the band contains the threshold."""
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
        c = float(stats.t.ppf((1 + confidence) / 2, self.dof))
        s2 = self.residual_sd**2
        d = self.intercept + self.slope * self.t_mean - self.transform(threshold)
        # (d + b u)² - c² s² (1/n + u²/Sxx) <= 0 for u = t - tbar
        qa = self.slope**2 - c**2 * s2 / self.sxx
        qb = 2 * self.slope * d
        qc = d**2 - c**2 * s2 / self.points
        if not qa > 0:
            raise ValueError(
                f"the slope is not significant at {confidence:.0%}: the crossing time is unbounded"
            )
        root = math.sqrt(max(qb**2 - 4 * qa * qc, 0.0))
        return (self.t_mean + (-qb - root) / (2 * qa), self.t_mean + (-qb + root) / (2 * qa))


def fit_trend(times: ArrayLike, values: ArrayLike, model: TrendModel) -> TrendFit:
    """Least-squares line through (t, y) or (t, ln y), with its AIC on the indicator's scale."""
    t, y = _checked(times, values)
    if model == "exponential":
        if np.any(y <= 0):
            raise ValueError("the exponential model needs a positive indicator; use the linear")
        fitted_y = np.log(y)
    elif model == "linear":
        fitted_y = y
    else:
        raise ValueError(f"unknown model {model!r}; use 'linear' or 'exponential'")
    n = t.size
    t_mean = float(t.mean())
    sxx = float(np.sum((t - t_mean) ** 2))
    slope = float(np.sum((t - t_mean) * (fitted_y - fitted_y.mean())) / sxx)
    intercept = float(fitted_y.mean() - slope * t_mean)
    sse = float(np.sum((fitted_y - intercept - slope * t) ** 2))
    residual_sd = math.sqrt(sse / (n - 2))
    jacobian = 2 * float(np.sum(np.log(y))) if model == "exponential" else 0.0
    aic = (n * math.log(sse / n) if sse > 0 else -math.inf) + jacobian + 2 * 3
    return TrendFit(
        model=model,
        points=n,
        intercept=intercept,
        slope=slope,
        slope_se=residual_sd / math.sqrt(sxx),
        residual_sd=residual_sd,
        t_mean=t_mean,
        sxx=sxx,
        aic=aic,
    )


def _checked(times: ArrayLike, values: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float)
    y = np.asarray(values, dtype=float)
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError(f"times and values must be equal-length lists, got {t.shape}, {y.shape}")
    if t.size < 3:
        raise ValueError(f"need at least 3 points since the anomaly began, got {t.size}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(y))):
        raise ValueError("times and values must be finite; drop bad windows first")
    if np.any(np.diff(t) <= 0):
        raise ValueError("times must be strictly increasing")
    return t, y


@dataclass(frozen=True, slots=True)
class RulEstimate:
    """Remaining useful life to a threshold, with its interval and the fit that gave it."""

    fit: TrendFit
    candidates: tuple[TrendFit, ...]
    threshold: float
    now: float
    confidence: float
    crossing: float
    interval: tuple[float, float]

    @property
    def rul(self) -> float:
        """Hours (the times' unit) from now until the trend reaches the threshold, at least 0."""
        return max(0.0, self.crossing - self.now)

    @property
    def rul_interval(self) -> tuple[float, float]:
        """The crossing-time interval as remaining life from now, clipped at 0."""
        low, high = self.interval
        return max(0.0, low - self.now), max(0.0, high - self.now)

    def probability_failed_by(self, hours_from_now: float) -> float:
        """P(the trend has reached the threshold `hours_from_now` after now)."""
        return self.fit.probability_reached(self.threshold, self.now + hours_from_now)


@dataclass(frozen=True, slots=True)
class NoTrend:
    """No significant rising trend: no remaining-life estimate, and why."""

    candidates: tuple[TrendFit, ...]
    chosen: TrendFit
    reason: str


def estimate_rul(
    times: ArrayLike,
    values: ArrayLike,
    threshold: float,
    *,
    confidence: float = 0.90,
    now: float | None = None,
) -> RulEstimate | NoTrend:
    """Fit both trends since the anomaly began, pick by AIC, extrapolate to the threshold.

    `times` are hours on any origin (e.g. since the anomaly's onset); `now` defaults to the
    newest time. The chosen slope must be significantly > 0 at one-sided level
    (1 - confidence) / 2, else the answer is NoTrend.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if not math.isfinite(threshold):
        raise ValueError(f"the failure threshold must be finite, got {threshold}")
    t, y = _checked(times, values)
    candidates = [fit_trend(t, y, "linear")]
    if y.min() > 0 and threshold > 0:
        candidates.append(fit_trend(t, y, "exponential"))
    chosen = min(candidates, key=lambda f: f.aic)
    level = (1 - confidence) / 2
    if chosen.slope_p_value >= level:
        return NoTrend(
            candidates=tuple(candidates),
            chosen=chosen,
            reason=f"the {chosen.model} slope {chosen.slope:+.4g} per hour is not significantly"
            f" above 0 (one-sided p = {chosen.slope_p_value:.3g} >= {level:.3g})",
        )
    return RulEstimate(
        fit=chosen,
        candidates=tuple(candidates),
        threshold=threshold,
        now=float(t[-1]) if now is None else now,
        confidence=confidence,
        crossing=chosen.crossing(threshold),
        interval=chosen.crossing_interval(threshold, confidence),
    )

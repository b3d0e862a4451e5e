"""Anomaly detection on feature vectors: Hotelling's T² with a Phase II limit and a k-of-n rule.

Calibration on a healthy reference of m windows of p features estimates the mean and the
covariance (through standardised features and their correlation matrix; T² is the same).
A new window's T² is compared with the Phase II upper control limit for individual
observations (Montgomery, Introduction to Statistical Quality Control, ch. 11; NIST/SEMATECH
e-Handbook 6.5.4.3.4):

    UCL = p (m + 1)(m - 1) / (m (m - p)) * F(1 - alpha; p, m - p)

so that a new healthy window exceeds it with probability alpha when the features are
multivariate normal and independent of the reference. A persistence rule (k of the last n
windows beyond the UCL) then turns exceedances into alarms; its in-control run length and
false alarms per hour follow from a Markov chain on the last n - 1 outcomes.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

MAX_PERSISTENCE_WINDOWS = 10
MAX_CONDITION_NUMBER = 1e10


def phase2_ucl(features: int, reference_windows: int, alpha: float) -> float:
    """Phase II T² limit for individual observations: p(m+1)(m-1)/(m(m-p)) F(1-alpha; p, m-p)."""
    p, m = features, reference_windows
    if p < 1:
        raise ValueError(f"need at least one feature, got {p}")
    if m <= p:
        raise ValueError(f"need more reference windows than features: m={m}, p={p}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    quantile = float(stats.f.ppf(1 - alpha, p, m - p))
    return p * (m + 1) * (m - 1) / (m * (m - p)) * quantile


@dataclass(frozen=True, slots=True)
class T2Score:
    """One window's T², its limit, and each feature's contribution (they sum to T²)."""

    t2: float
    ucl: float
    contributions: dict[str, float]
    standardized: dict[str, float]

    @property
    def exceeds(self) -> bool:
        """True when T² lies above the upper control limit."""
        return self.t2 > self.ucl

    def drivers(self) -> list[tuple[str, float]]:
        """Features by contribution, largest first."""
        return sorted(self.contributions.items(), key=lambda item: item[1], reverse=True)


@dataclass(frozen=True, slots=True)
class T2Detector:
    """A Hotelling T² detector calibrated on a healthy reference period."""

    features: tuple[str, ...]
    reference_windows: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    correlation: tuple[tuple[float, ...], ...]
    alpha: float
    ucl: float
    reference_exceedance_rate: float

    def score(self, window: Mapping[str, float]) -> T2Score:
        """T² of one window against the reference, with per-feature contributions.

        The contribution of feature j is z_j * (R^-1 z)_j, z the standardised deviations and R
        the reference correlation matrix: the full-rank form of the T² contributions of
        Kourti and MacGregor (1996). They sum to T² and can be negative.
        """
        z = (_row(window, self.features, "window") - np.array(self.mean)) / np.array(self.std)
        weighted = np.linalg.solve(np.array(self.correlation), z)
        parts = z * weighted
        return T2Score(
            t2=float(parts.sum()),
            ucl=self.ucl,
            contributions=dict(zip(self.features, map(float, parts), strict=True)),
            standardized=dict(zip(self.features, map(float, z), strict=True)),
        )


def calibrate(
    reference: Sequence[Mapping[str, float]], features: Sequence[str], alpha: float = 0.01
) -> T2Detector:
    """Calibrate a T² detector on healthy windows for a per-window false-alarm probability alpha.

    `reference_exceedance_rate` is the leave-one-out check: the fraction of reference windows
    whose T² against the other m - 1 exceeds the Phase II limit for m - 1. Near alpha when the
    features behave as the limit assumes; well above it when they are skewed or heavy-tailed.
    """
    names = tuple(features)
    if len(set(names)) != len(names):
        raise ValueError(f"feature names must be unique, got {names}")
    p, m = len(names), len(reference)
    if m < p + 2:
        raise ValueError(
            f"{m} reference windows are too few for {p} features: need at least {p + 2},"
            " and many more (tens per feature) for a limit worth trusting"
        )
    x = np.array([_row(w, names, f"reference window {i}") for i, w in enumerate(reference)])
    mean = x.mean(axis=0)
    std = x.std(axis=0, ddof=1)
    flat = [name for name, s in zip(names, std, strict=True) if not s > 0]
    if flat:
        raise ValueError(f"features {flat} do not vary over the reference period; drop them")
    z = (x - mean) / std
    corr = z.T @ z / (m - 1)
    if np.linalg.cond(corr) > MAX_CONDITION_NUMBER:
        i, j = _most_correlated_pair(corr)
        raise ValueError(
            f"the reference features are (nearly) collinear, e.g. {names[i]!r} and {names[j]!r}"
            f" (correlation {corr[i, j]:+.6f}); drop one of them"
        )
    in_sample = np.einsum("ij,ij->i", z, np.linalg.solve(corr, z.T).T)
    return T2Detector(
        features=names,
        reference_windows=m,
        mean=tuple(map(float, mean)),
        std=tuple(map(float, std)),
        correlation=tuple(tuple(map(float, row)) for row in corr),
        alpha=alpha,
        ucl=phase2_ucl(p, m, alpha),
        reference_exceedance_rate=float(
            np.mean(leave_one_out_t2(in_sample, m) > phase2_ucl(p, m - 1, alpha))
        ),
    )


def leave_one_out_t2(in_sample_t2: np.ndarray, reference_windows: int) -> np.ndarray:
    """T² of each reference window against the other m - 1, from its in-sample T².

    With e = x_i - mean, A = (m - 1) S and q = e' A^-1 e = T²_i / (m - 1), Sherman-Morrison
    gives T²_(i) = (m / (m - 1))² (m - 2) q / (1 - m q / (m - 1)).
    """
    m = reference_windows
    q = in_sample_t2 / (m - 1)
    c = m / (m - 1)
    with np.errstate(divide="ignore"):
        result: np.ndarray = c**2 * (m - 2) * q / np.maximum(1 - c * q, 0.0)
    return result


def _row(window: Mapping[str, float], names: tuple[str, ...], label: str) -> np.ndarray:
    missing = [n for n in names if n not in window]
    if missing:
        raise ValueError(f"{label} lacks features {missing}; compute every feature per window")
    row = np.array([float(window[n]) for n in names])
    if not np.all(np.isfinite(row)):
        raise ValueError(f"{label} has non-finite features: {dict(zip(names, row, strict=True))}")
    return row


def _most_correlated_pair(corr: np.ndarray) -> tuple[int, int]:
    off = np.abs(corr - np.diag(np.diag(corr)))
    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
    return int(i), int(j)


@dataclass(frozen=True, slots=True)
class PersistenceRule:
    """Alarm when at least k of the last n windows exceed the limit (none before the first)."""

    k: int
    n: int

    def __post_init__(self) -> None:
        if not 1 <= self.k <= self.n <= MAX_PERSISTENCE_WINDOWS:
            raise ValueError(
                f"need 1 <= k <= n <= {MAX_PERSISTENCE_WINDOWS}, got k={self.k}, n={self.n}"
            )

    def signals(self, exceedances: Sequence[bool]) -> list[bool]:
        """For each window, whether the rule fires there."""
        return [
            sum(exceedances[max(0, i - self.n + 1) : i + 1]) >= self.k
            for i in range(len(exceedances))
        ]


def in_control_run_length(alpha: float, rule: PersistenceRule) -> float:
    """Average run length ARL0: expected windows until the rule first fires on healthy data.

    Each window exceeds independently with probability alpha; the chain's states are the last
    n - 1 outcomes that have not yet fired the rule, started from all-clear.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    states = [
        s for s in itertools.product((0, 1), repeat=rule.n - 1) if sum(s) < rule.k
    ]  # histories from which the rule has not fired
    index = {s: i for i, s in enumerate(states)}
    transient = np.zeros((len(states), len(states)))
    for s, i in index.items():
        for outcome, probability in ((0, 1 - alpha), (1, alpha)):
            window = (*s, outcome)
            if sum(window) >= rule.k:
                continue  # absorbed: the rule fires
            transient[i, index[window[1:]]] += probability
    steps = np.linalg.solve(np.eye(len(states)) - transient, np.ones(len(states)))
    return float(steps[index[(0,) * (rule.n - 1)]])


@dataclass(frozen=True, slots=True)
class FalseAlarmRate:
    """How often a healthy machine raises an alarm under a persistence rule."""

    per_window_alpha: float
    rule: PersistenceRule
    window_interval_hours: float
    arl0_windows: float
    mean_hours_between_false_alarms: float
    false_alarms_per_hour: float
    assumptions: tuple[str, ...]


def false_alarm_rate(
    alpha: float, rule: PersistenceRule, window_interval_hours: float
) -> FalseAlarmRate:
    """The rule's in-control run length in windows and hours, and its false alarms per hour."""
    if not window_interval_hours > 0:
        raise ValueError(f"window_interval_hours must be > 0, got {window_interval_hours}")
    arl0 = in_control_run_length(alpha, rule)
    hours = arl0 * window_interval_hours
    return FalseAlarmRate(
        per_window_alpha=alpha,
        rule=rule,
        window_interval_hours=window_interval_hours,
        arl0_windows=arl0,
        mean_hours_between_false_alarms=hours,
        false_alarms_per_hour=1 / hours,
        assumptions=(
            f"a healthy window exceeds the T² limit with probability {alpha:g}: exact for"
            " multivariate normal features independent of the reference (check the reference's"
            " leave-one-out exceedance rate against it)",
            "windows exceed independently of each other (the shared reference estimate makes"
            " them slightly dependent; the unconditional per-window rate is still alpha)",
            f"one window every {window_interval_hours:g} h; the rule restarts after each alarm",
        ),
    )


@dataclass(frozen=True, slots=True)
class AnomalyAssessment:
    """T² per window, where the persistence rule fires, and what drives the latest alarm."""

    scores: tuple[T2Score, ...]
    signalling: tuple[bool, ...]
    first_alarm: int | None
    onset: int | None
    drivers: tuple[tuple[str, float], ...]
    false_alarms: FalseAlarmRate

    @property
    def alarm_now(self) -> bool:
        """True when the rule fires at the newest window."""
        return bool(self.signalling) and self.signalling[-1]


def assess(
    detector: T2Detector,
    windows: Sequence[Mapping[str, float]],
    rule: PersistenceRule,
    window_interval_hours: float,
) -> AnomalyAssessment:
    """Score windows in time order and apply the persistence rule.

    `onset` is the first exceeding window among the n that completed the first alarm (where
    the anomaly began); `drivers` are the mean contributions over the exceeding windows among
    the n ending at the latest alarm, largest first.
    """
    scores = tuple(detector.score(w) for w in windows)
    exceeds = [s.exceeds for s in scores]
    signalling = tuple(rule.signals(exceeds))
    alarms = [i for i, fired in enumerate(signalling) if fired]
    first = alarms[0] if alarms else None
    onset = None
    drivers: tuple[tuple[str, float], ...] = ()
    if first is not None:
        onset = next(i for i in range(max(0, first - rule.n + 1), first + 1) if exceeds[i])
        last = alarms[-1]
        recent = [scores[i] for i in range(max(0, last - rule.n + 1), last + 1) if exceeds[i]]
        mean_parts = {
            name: sum(s.contributions[name] for s in recent) / len(recent)
            for name in detector.features
        }
        drivers = tuple(sorted(mean_parts.items(), key=lambda item: item[1], reverse=True))
    return AnomalyAssessment(
        scores=scores,
        signalling=signalling,
        first_alarm=first,
        onset=onset,
        drivers=drivers,
        false_alarms=false_alarm_rate(detector.alpha, rule, window_interval_hours),
    )

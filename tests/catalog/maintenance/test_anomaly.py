"""Hotelling T² detector: published limits, exact false-alarm rate, a seeded bearing fault."""

from __future__ import annotations

import math

import numpy as np
import pytest

from factory_agents.catalog.maintenance.anomaly import (
    PersistenceRule,
    assess,
    calibrate,
    false_alarm_rate,
    in_control_run_length,
    leave_one_out_t2,
    phase2_ucl,
)

from .conftest import VIBRATION_FEATURES, faulty_window, features_of, healthy_windows

COVARIANCE = np.array([[4.0, 1.2, -0.6], [1.2, 1.0, 0.3], [-0.6, 0.3, 2.25]])
NAMES = ("a", "b", "c")


def rows(x: np.ndarray, names: tuple[str, ...] = NAMES) -> list[dict[str, float]]:
    return [dict(zip(names, map(float, r), strict=True)) for r in x]


def test_phase2_limit_matches_the_f_table() -> None:
    # F(0.95; 2, 20) = 3.493 (NIST/SEMATECH e-Handbook, table 1.3.6.7.3); with p = 2, m = 22:
    # UCL = 2 * 23 * 21 / (22 * 20) * 3.493 (Montgomery ch. 11; e-Handbook 6.5.4.3.4)
    assert phase2_ucl(2, 22, 0.05) == pytest.approx(2 * 23 * 21 / (22 * 20) * 3.493, rel=2e-4)


@pytest.mark.parametrize(("p", "alpha", "chi2"), [(2, 0.01, 9.210), (4, 0.05, 9.488)])
def test_phase2_limit_tends_to_the_chi_square_quantile(p: int, alpha: float, chi2: float) -> None:
    # with a known mean and covariance (m -> infinity) T² is chi-square with p degrees of
    # freedom; quantiles from the chi-square table (e-Handbook 1.3.6.7.4)
    assert phase2_ucl(p, 10**7, alpha) == pytest.approx(chi2, rel=2e-4)


def test_t2_is_the_mahalanobis_distance_and_contributions_add_up_to_it() -> None:
    rng = np.random.default_rng(11)
    x = rng.multivariate_normal([10.0, -3.0, 0.5], COVARIANCE, size=60)
    detector = calibrate(rows(x), NAMES, alpha=0.01)
    new = np.array([13.0, -2.0, -1.0])
    score = detector.score(dict(zip(NAMES, new, strict=True)))
    # direct form on the raw features: (x - xbar)' S^-1 (x - xbar), S with divisor m - 1
    dev = new - x.mean(axis=0)
    direct = float(dev @ np.linalg.solve(np.cov(x, rowvar=False), dev))
    assert score.t2 == pytest.approx(direct, rel=1e-10)
    assert sum(score.contributions.values()) == pytest.approx(score.t2, rel=1e-12)
    assert score.standardized["a"] == pytest.approx(
        (13.0 - x[:, 0].mean()) / x[:, 0].std(ddof=1), rel=1e-12
    )
    assert score.ucl == detector.ucl == phase2_ucl(3, 60, 0.01)


def test_leave_one_out_t2_equals_refitting_without_the_window() -> None:
    x = np.random.default_rng(3).multivariate_normal([0, 0, 0], COVARIANCE, size=25)
    m = len(x)
    mean, cov = x.mean(axis=0), np.cov(x, rowvar=False)
    in_sample = np.array([(r - mean) @ np.linalg.solve(cov, r - mean) for r in x])
    direct = []
    for i in range(m):
        others = np.delete(x, i, axis=0)
        dev = x[i] - others.mean(axis=0)
        direct.append(dev @ np.linalg.solve(np.cov(others, rowvar=False), dev))
    assert leave_one_out_t2(in_sample, m) == pytest.approx(np.array(direct), rel=1e-9)


def test_false_alarm_rate_on_healthy_normal_data_is_alpha() -> None:
    # A fresh reference and one fresh healthy window per trial: each trial exceeds the Phase II
    # limit with probability exactly alpha, so the count is Binomial(trials, alpha).
    rng = np.random.default_rng(2026)
    trials, m, alpha = 4000, 30, 0.05
    exceed = 0
    for _ in range(trials):
        x = rng.multivariate_normal([5.0, 1.0, -2.0], COVARIANCE, size=m + 1)
        detector = calibrate(rows(x[:m]), NAMES, alpha)
        exceed += detector.score(rows(x[m:])[0]).exceeds
    sd = math.sqrt(trials * alpha * (1 - alpha))
    assert abs(exceed - trials * alpha) < 4 * sd


def test_false_alarm_rate_on_healthy_vibration_features_is_alpha() -> None:
    # Features of Gaussian-noise windows are near normal (RMS, kurtosis and band RMS of 4096
    # samples); a large reference keeps the limit's own estimation error small.
    rng = np.random.default_rng(7)
    names = ("rms", "kurtosis", "band_rms:resonance")
    reference = [features_of(w) for w in healthy_windows(rng, 1000)]
    detector = calibrate(reference, names, alpha=0.05)
    new = [features_of(w) for w in healthy_windows(rng, 2000)]
    rate = sum(detector.score(w).exceeds for w in new) / len(new)
    assert abs(rate - 0.05) < 4 * math.sqrt(0.05 * 0.95 / len(new))
    assert abs(detector.reference_exceedance_rate - 0.05) < 4 * math.sqrt(0.05 * 0.95 / 1000)


def test_a_growing_outer_race_fault_raises_an_alarm_driven_by_its_features() -> None:
    rng = np.random.default_rng(21)
    detector = calibrate(
        [features_of(w) for w in healthy_windows(rng, 300)], VIBRATION_FEATURES, alpha=0.01
    )
    healthy = [features_of(w) for w in healthy_windows(rng, 40)]
    faulty = [features_of(faulty_window(rng, impulse=8.0 * i / 40)) for i in range(1, 41)]
    rule = PersistenceRule(k=3, n=5)
    result = assess(detector, healthy + faulty, rule, window_interval_hours=0.5)
    assert result.first_alarm is not None and result.first_alarm >= 40
    assert result.onset is not None and 40 <= result.onset <= result.first_alarm
    assert result.alarm_now
    assert result.drivers[0][0] in {"band_rms:resonance", "kurtosis"}
    assert sum(c for _, c in result.drivers) == pytest.approx(
        np.mean([s.t2 for s in result.scores[-5:] if s.exceeds])
    )
    # the impulse train raises RMS and kurtosis, as an outer-race defect does
    for feature in ("rms", "kurtosis"):
        assert np.mean([w[feature] for w in faulty[-5:]]) > max(w[feature] for w in healthy)


def test_run_length_of_single_window_rule_is_one_over_alpha() -> None:
    assert in_control_run_length(0.01, PersistenceRule(1, 1)) == pytest.approx(100.0)


@pytest.mark.parametrize(("alpha", "n"), [(0.05, 2), (0.1, 3), (0.3, 5)])
def test_run_length_of_n_in_a_row_matches_the_waiting_time_formula(alpha: float, n: int) -> None:
    # expected trials until n successes in a row: (1 - a^n) / ((1 - a) a^n) (Feller, vol. I)
    expected = (1 - alpha**n) / ((1 - alpha) * alpha**n)
    assert in_control_run_length(alpha, PersistenceRule(n, n)) == pytest.approx(expected, rel=1e-9)


def test_run_length_of_two_of_three_matches_simulation() -> None:
    rng = np.random.default_rng(5)
    alpha, rule = 0.2, PersistenceRule(2, 3)
    lengths = []
    for _ in range(20_000):
        history: list[bool] = []
        while rule.signals(history[-3:])[-1:] != [True]:
            history.append(bool(rng.random() < alpha))
        lengths.append(len(history))
    se = float(np.std(lengths)) / math.sqrt(len(lengths))
    mean = float(np.mean(lengths))
    assert in_control_run_length(alpha, rule) == pytest.approx(mean, abs=4 * se)


def test_false_alarms_per_hour_follow_the_run_length() -> None:
    rate = false_alarm_rate(0.01, PersistenceRule(2, 3), window_interval_hours=0.25)
    assert rate.arl0_windows == in_control_run_length(0.01, PersistenceRule(2, 3))
    assert rate.mean_hours_between_false_alarms == pytest.approx(rate.arl0_windows * 0.25)
    assert rate.false_alarms_per_hour == pytest.approx(1 / (rate.arl0_windows * 0.25))
    # 2 of 3 is far rarer than a single exceedance: ARL0 > 1/(3 alpha^2) = 3333
    assert rate.arl0_windows > 1 / (3 * 0.01**2)


def test_persistence_rule_counts_the_last_n_windows() -> None:
    rule = PersistenceRule(2, 3)
    assert rule.signals([True, False, False, True, False, True, True]) == [
        False,
        False,
        False,
        False,
        False,
        True,
        True,
    ]
    with pytest.raises(ValueError, match="k <= n"):
        PersistenceRule(4, 3)


def test_bad_references_are_refused_with_a_reason() -> None:
    x = np.random.default_rng(1).normal(size=(40, 3))
    with pytest.raises(ValueError, match="too few"):
        calibrate(rows(x[:4]), NAMES)
    flat = x.copy()
    flat[:, 1] = 2.0
    with pytest.raises(ValueError, match=r"\['b'\] do not vary"):
        calibrate(rows(flat), NAMES)
    twin = x.copy()
    twin[:, 2] = 3 * twin[:, 0] + 1
    with pytest.raises(ValueError, match=r"collinear, e\.g\. 'a' and 'c'"):
        calibrate(rows(twin), NAMES)
    detector = calibrate(rows(x), NAMES)
    with pytest.raises(ValueError, match=r"lacks features \['c'\]"):
        detector.score({"a": 1.0, "b": 2.0})

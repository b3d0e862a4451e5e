"""Remaining useful life: known crossing times, scipy's regression, exact Fieller coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from factory_agents.catalog.maintenance.rul import (
    NoTrend,
    RulEstimate,
    TrendModel,
    estimate_rul,
    fit_trend,
)

HOURS = np.arange(0.0, 21.0)  # one window per hour since the anomaly began


def test_a_noise_free_linear_trend_crosses_when_arithmetic_says() -> None:
    # y = 2 + 0.5 t reaches 17 at t = 30, ten hours after the last window at t = 20
    result = estimate_rul(HOURS, 2 + 0.5 * HOURS, threshold=17.0)
    assert isinstance(result, RulEstimate)
    assert result.fit.model == "linear"
    assert result.crossing == pytest.approx(30.0)
    assert result.rul == pytest.approx(10.0)
    assert result.interval == pytest.approx((30.0, 30.0))


def test_a_noise_free_exponential_trend_crosses_when_arithmetic_says() -> None:
    # y = 0.5 e^(0.1 t) reaches 10 at t = ln(20) / 0.1
    result = estimate_rul(HOURS, 0.5 * np.exp(0.1 * HOURS), threshold=10.0)
    assert isinstance(result, RulEstimate)
    assert result.fit.model == "exponential"
    assert result.crossing == pytest.approx(math.log(20) / 0.1)
    assert result.rul == pytest.approx(math.log(20) / 0.1 - 20)


def test_linear_fit_equals_scipys_linregress() -> None:
    y = 2 + 0.5 * HOURS + np.random.default_rng(4).normal(0, 0.6, HOURS.size)
    fit = fit_trend(HOURS, y, "linear")
    ref = stats.linregress(HOURS, y)
    assert fit.slope == pytest.approx(ref.slope, rel=1e-12)
    assert fit.intercept == pytest.approx(ref.intercept, rel=1e-12)
    assert fit.slope_se == pytest.approx(ref.stderr, rel=1e-10)
    # linregress's p-value is two-sided; ours is one-sided for a rising trend
    assert fit.slope_p_value == pytest.approx(ref.pvalue / 2, rel=1e-6)


@pytest.mark.parametrize("model", ["linear", "exponential"])
def test_aic_is_the_gaussian_or_lognormal_likelihood_on_the_indicators_scale(
    model: TrendModel,
) -> None:
    y = 0.5 * np.exp(0.1 * HOURS) * np.random.default_rng(8).lognormal(0, 0.1, HOURS.size)
    fit = fit_trend(HOURS, y, model)
    line = fit.intercept + fit.slope * HOURS
    n = HOURS.size
    if model == "linear":
        sigma = math.sqrt(np.sum((y - line) ** 2) / n)  # maximum-likelihood sigma
        loglik = stats.norm.logpdf(y, loc=line, scale=sigma).sum()
    else:
        sigma = math.sqrt(np.sum((np.log(y) - line) ** 2) / n)
        loglik = stats.lognorm.logpdf(y, s=sigma, scale=np.exp(line)).sum()
    # our AIC leaves out the constant n (ln 2 pi + 1) both models share
    assert fit.aic + n * (math.log(2 * math.pi) + 1) == pytest.approx(-2 * loglik + 2 * 3)


def test_aic_picks_the_model_that_generated_the_data() -> None:
    rng = np.random.default_rng(12)
    t = np.arange(0.0, 40.0)
    linear = estimate_rul(t, 1 + 0.3 * t + rng.normal(0, 0.3, t.size), threshold=20.0)
    expo = estimate_rul(t, 0.2 * np.exp(0.08 * t) * rng.lognormal(0, 0.05, t.size), threshold=10.0)
    assert isinstance(linear, RulEstimate) and linear.fit.model == "linear"
    assert isinstance(expo, RulEstimate) and expo.fit.model == "exponential"
    assert expo.interval[0] < math.log(50) / 0.08 < expo.interval[1]


def test_a_noisy_trend_brackets_its_known_crossing_time() -> None:
    y = 2 + 0.5 * HOURS + np.random.default_rng(9).normal(0, 0.5, HOURS.size)
    result = estimate_rul(HOURS, y, threshold=17.0, confidence=0.9)
    assert isinstance(result, RulEstimate)
    low, high = result.interval
    assert low < 30.0 < high
    assert result.crossing == pytest.approx(30.0, abs=2.0)
    assert result.rul_interval == pytest.approx((low - 20, high - 20))


@pytest.mark.parametrize("model", ["linear", "exponential"])
def test_fieller_interval_covers_the_true_crossing_at_its_confidence(model: TrendModel) -> None:
    # The set {t : |yhat(t) - h| <= c se(t)} holds the true crossing t* exactly when
    # |yhat(t*) - mu(t*)| <= c se(t*), which has probability `confidence`: coverage is exact.
    rng = np.random.default_rng(31)
    t = np.arange(0.0, 15.0)
    trials, confidence, covered = 2000, 0.9, 0
    for _ in range(trials):
        if model == "linear":
            y, threshold, truth = 1 + 0.4 * t + rng.normal(0, 0.8, t.size), 13.0, 30.0
        else:
            y = np.exp(0.1 * t + rng.normal(0, 0.15, t.size))
            threshold, truth = math.exp(3.0), 30.0
        low, high = fit_trend(t, y, model).crossing_interval(threshold, confidence)
        covered += low <= truth <= high
    sd = math.sqrt(trials * confidence * (1 - confidence))
    assert abs(covered - trials * confidence) < 4 * sd


def test_failure_probability_is_a_half_at_the_estimate_and_the_tails_at_the_interval() -> None:
    y = 2 + 0.5 * HOURS + np.random.default_rng(9).normal(0, 0.5, HOURS.size)
    result = estimate_rul(HOURS, y, threshold=17.0, confidence=0.8)
    assert isinstance(result, RulEstimate)
    low, high = result.rul_interval
    assert result.probability_failed_by(result.rul) == pytest.approx(0.5)
    assert result.probability_failed_by(low) == pytest.approx(0.1)
    assert result.probability_failed_by(high) == pytest.approx(0.9)
    later = [result.probability_failed_by(h) for h in (0.0, 5.0, 10.0, 20.0, 40.0)]
    assert later == sorted(later)


def test_a_flat_indicator_has_no_trend() -> None:
    y = 5 + np.random.default_rng(2).normal(0, 0.5, HOURS.size)
    result = estimate_rul(HOURS, y, threshold=17.0)
    assert isinstance(result, NoTrend)
    assert "not significantly above 0" in result.reason
    assert result.chosen.slope_p_value >= 0.05


def test_a_falling_indicator_has_no_trend() -> None:
    result = estimate_rul(HOURS, 20 - 0.5 * HOURS, threshold=25.0)
    assert isinstance(result, NoTrend)


def test_non_positive_values_fit_the_linear_model_only() -> None:
    y = -3 + 0.5 * HOURS
    result = estimate_rul(HOURS, y, threshold=12.0)
    assert isinstance(result, RulEstimate)
    assert [f.model for f in result.candidates] == ["linear"]
    with pytest.raises(ValueError, match="positive indicator"):
        fit_trend(HOURS, y, "exponential")


def test_bad_series_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 3 points"):
        estimate_rul([0.0, 1.0], [1.0, 2.0], threshold=5.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        estimate_rul([0.0, 2.0, 1.0], [1.0, 2.0, 3.0], threshold=5.0)
    with pytest.raises(ValueError, match="finite"):
        estimate_rul([0.0, 1.0, 2.0], [1.0, math.nan, 3.0], threshold=5.0)

"""Vibration and temperature features against analytic values and scipy's moments."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from scipy import stats

from factory_agents.catalog.maintenance.features import (
    FrequencyBand,
    RefusedWindow,
    TemperatureFeatures,
    VibrationFeatures,
    temperature_window,
    vibration_window,
    waveform_stats,
)
from factory_agents.plant import Quality

from .conftest import NOW, samples


def sine(amplitude: float, hz: float, rate: float, n: int) -> np.ndarray:
    wave: np.ndarray = amplitude * np.sin(2 * np.pi * hz * np.arange(n) / rate)
    return wave


def test_a_sine_has_its_textbook_rms_crest_factor_and_kurtosis() -> None:
    # 50 whole cycles of A sin: RMS = A/sqrt(2), peak = A (sampled at the crest, t = 5 ms),
    # crest factor sqrt(2), kurtosis E[sin^4]/E[sin^2]^2 = (3/8)/(1/4) = 1.5, skewness 0.
    s = waveform_stats(sine(2.0, 50.0, 1000.0, 1000) + 7.0, 1000.0)
    assert s.mean == pytest.approx(7.0)
    assert s.rms == pytest.approx(2.0 / math.sqrt(2), rel=1e-12)
    assert s.peak == pytest.approx(2.0, rel=1e-12)
    assert s.crest_factor == pytest.approx(math.sqrt(2), rel=1e-12)
    assert s.kurtosis == pytest.approx(1.5, rel=1e-12)
    assert s.skewness == pytest.approx(0.0, abs=1e-12)


def test_moments_equal_scipys_population_moments() -> None:
    x = np.random.default_rng(5).gamma(2.0, 1.0, 5000)
    s = waveform_stats(x, 1000.0)
    assert s.kurtosis == pytest.approx(stats.kurtosis(x, fisher=False, bias=True), rel=1e-10)
    assert s.skewness == pytest.approx(stats.skew(x, bias=True), rel=1e-10)
    assert s.rms == pytest.approx(np.std(x), rel=1e-12)


def test_gaussian_noise_has_kurtosis_three() -> None:
    n = 200_000
    s = waveform_stats(np.random.default_rng(2).normal(0, 3.0, n), 1000.0)
    # sampling standard errors of kurtosis and skewness: sqrt(24/n), sqrt(6/n)
    assert s.kurtosis == pytest.approx(3.0, abs=4 * math.sqrt(24 / n))
    assert s.skewness == pytest.approx(0.0, abs=4 * math.sqrt(6 / n))
    assert s.rms == pytest.approx(3.0, rel=0.01)


def test_band_rms_isolates_each_tone_and_adds_up_to_the_total() -> None:
    rate, n = 1000.0, 1000
    x = sine(2.0, 50.0, rate, n) + sine(1.0, 200.0, rate, n)
    bands = [
        FrequencyBand("low", 40.0, 60.0),
        FrequencyBand("high", 150.0, 250.0),
        FrequencyBand("all", 0.0, 500.0),
    ]
    s = waveform_stats(x, rate, bands)
    assert s.band_rms["low"] == pytest.approx(2.0 / math.sqrt(2), rel=1e-9)
    assert s.band_rms["high"] == pytest.approx(1.0 / math.sqrt(2), rel=1e-9)
    assert s.band_rms["all"] == pytest.approx(s.rms, rel=1e-12)  # Parseval


def test_band_rms_of_white_noise_follows_its_bandwidth() -> None:
    # white noise spreads its power evenly: a band of 1/5 of the Nyquist range holds 1/5 of it
    x = np.random.default_rng(4).normal(0, 1.0, 100_000)
    s = waveform_stats(x, 1000.0, [FrequencyBand("fifth", 100.0, 200.0)])
    assert s.band_rms["fifth"] ** 2 == pytest.approx(s.rms**2 / 5, rel=0.03)


def test_a_band_above_nyquist_and_bad_bands_are_refused() -> None:
    with pytest.raises(ValueError, match="Nyquist"):
        waveform_stats(sine(1.0, 10.0, 100.0, 100), 100.0, [FrequencyBand("b", 10.0, 60.0)])
    with pytest.raises(ValueError, match="low_hz < high_hz"):
        FrequencyBand("b", 60.0, 10.0)


def test_a_constant_signal_is_refused() -> None:
    with pytest.raises(ValueError, match="constant"):
        waveform_stats([1.0] * 100, 1000.0)


def test_an_evenly_sampled_window_gives_the_waveforms_features() -> None:
    x = np.random.default_rng(1).normal(0, 1.0, 512)
    out = vibration_window(samples(x, 20_000.0), 20_000.0)
    assert isinstance(out, VibrationFeatures)
    assert out.stats == waveform_stats(x, 20_000.0)
    assert out.start == NOW
    assert out.end == NOW + timedelta(microseconds=511 * 50)
    assert set(out.as_features()) == {"rms", "peak", "crest_factor", "kurtosis", "skewness"}


def test_windows_with_gaps_too_few_or_bad_samples_are_refused_with_the_reason() -> None:
    rate = 20_000.0
    x = np.random.default_rng(1).normal(0, 1.0, 512)
    series = samples(x, rate)
    cases = {
        "gap": series[:200] + series[201:],
        "too_few_samples": series[:100],
        "not_good": [
            *series[:10],
            series[10].model_copy(update={"quality": Quality.BAD}),
            *series[11:],
        ],
        "uneven_sampling": [*series[:50], series[49], *series[50:]],
        "flat_signal": samples([0.5] * 512, rate),
    }
    for reason, window in cases.items():
        out = vibration_window(window, rate)
        assert isinstance(out, RefusedWindow), reason
        assert out.reason == reason
    gap = vibration_window(cases["gap"], rate)
    assert isinstance(gap, RefusedWindow)
    assert "between samples 199 and 200" in gap.detail


def test_temperature_mean_and_slope_of_a_ramp() -> None:
    # 0.5 degC per minute = 30 degC per hour, sampled every 10 s for 10 minutes
    temps = [60.0 + 0.5 * i / 6 for i in range(61)]
    out = temperature_window(samples(temps, 0.1, tag="temp"), max_gap_seconds=30)
    assert isinstance(out, TemperatureFeatures)
    assert out.slope_per_hour == pytest.approx(30.0, rel=1e-9)
    assert out.mean == pytest.approx(62.5, rel=1e-12)
    assert out.samples == 61


def test_temperature_drops_bad_samples_and_refuses_gaps() -> None:
    series = samples([70.0 + (i % 2) for i in range(30)], 0.1, tag="temp")
    bad = [
        s.model_copy(update={"quality": Quality.BAD}) if i == 5 else s for i, s in enumerate(series)
    ]
    out = temperature_window(bad, max_gap_seconds=25)
    assert isinstance(out, TemperatureFeatures)
    assert out.samples == 29
    gappy = temperature_window(series[:10] + series[14:], max_gap_seconds=25)
    assert isinstance(gappy, RefusedWindow)
    assert gappy.reason == "gap"
    assert "50.0 s" in gappy.detail
    few = temperature_window(series[:2], max_gap_seconds=25)
    assert isinstance(few, RefusedWindow)
    assert few.reason == "too_few_samples"

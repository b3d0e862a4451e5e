"""Condition-monitoring features per window: vibration statistics, band RMS, temperature trend.

Vibration windows are bursts of evenly sampled acceleration; a window with too few samples,
a gap, uneven time stamps, a non-Good sample or a flat signal is refused with the reason,
never patched. Moments are population moments about the window's mean (the sensor's DC
offset removed): RMS = sqrt(m2), kurtosis = m4 / m2**2 (Pearson; 3 for Gaussian noise),
skewness = m3 / m2**1.5, peak = max |x - mean|, crest factor = peak / RMS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike

from factory_agents.plant import Quality, Sample

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class FrequencyBand:
    """A frequency band [low_hz, high_hz] (both ends included) whose RMS is a feature."""

    name: str
    low_hz: float
    high_hz: float

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a frequency band needs a name, e.g. 'bearing_2k_5k'")
        if not 0 <= self.low_hz < self.high_hz:
            raise ValueError(
                f"band {self.name!r}: need 0 <= low_hz < high_hz, got"
                f" [{self.low_hz}, {self.high_hz}] Hz"
            )


@dataclass(frozen=True, slots=True)
class WaveformStats:
    """Statistics of one evenly sampled vibration window (mean removed)."""

    samples: int
    mean: float
    rms: float
    peak: float
    crest_factor: float
    kurtosis: float
    skewness: float
    band_rms: dict[str, float]


@dataclass(frozen=True, slots=True)
class VibrationFeatures:
    """The statistics of an accepted vibration window, with its time span and sampling rate."""

    start: datetime
    end: datetime
    sampling_rate_hz: float
    stats: WaveformStats

    def as_features(self) -> dict[str, float]:
        """Feature name to value: rms, peak, crest_factor, kurtosis, skewness, band_rms:<name>."""
        s = self.stats
        features = {
            "rms": s.rms,
            "peak": s.peak,
            "crest_factor": s.crest_factor,
            "kurtosis": s.kurtosis,
            "skewness": s.skewness,
        }
        features.update({f"band_rms:{name}": value for name, value in s.band_rms.items()})
        return features


@dataclass(frozen=True, slots=True)
class TemperatureFeatures:
    """Mean temperature of a window and its least-squares slope per hour."""

    start: datetime
    end: datetime
    samples: int
    mean: float
    slope_per_hour: float

    def as_features(self) -> dict[str, float]:
        """Feature name to value: temperature_mean, temperature_slope_per_hour."""
        return {"temperature_mean": self.mean, "temperature_slope_per_hour": self.slope_per_hour}


@dataclass(frozen=True, slots=True)
class RefusedWindow:
    """A window not used, and why: too_few_samples, not_good, gap, uneven_sampling, flat_signal."""

    start: datetime | None
    end: datetime | None
    reason: str
    detail: str


def waveform_stats(
    values: ArrayLike, sampling_rate_hz: float, bands: Sequence[FrequencyBand] = ()
) -> WaveformStats:
    """RMS, peak, crest factor, kurtosis, skewness and band RMS of evenly sampled values."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size < 4:
        raise ValueError(f"need a 1-D window of at least 4 values, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("the window holds NaN or infinite values; refuse it, do not patch it")
    if not sampling_rate_hz > 0:
        raise ValueError(f"sampling_rate_hz must be > 0, got {sampling_rate_hz}")
    mean = float(x.mean())
    centred = x - mean
    m2 = float(np.mean(centred**2))
    if not m2 > 0:
        raise ValueError("the signal is constant (zero RMS): sensor stuck or disconnected?")
    rms = math.sqrt(m2)
    peak = float(np.max(np.abs(centred)))
    return WaveformStats(
        samples=int(x.size),
        mean=mean,
        rms=rms,
        peak=peak,
        crest_factor=peak / rms,
        kurtosis=float(np.mean(centred**4)) / m2**2,
        skewness=float(np.mean(centred**3)) / m2**1.5,
        band_rms={b.name: _band_rms(centred, sampling_rate_hz, b) for b in bands},
    )


def _band_rms(centred: np.ndarray, sampling_rate_hz: float, band: FrequencyBand) -> float:
    """RMS of the components in the band by Parseval on the one-sided FFT (rectangular window)."""
    nyquist = sampling_rate_hz / 2
    if band.high_hz > nyquist:
        raise ValueError(
            f"band {band.name!r} reaches {band.high_hz} Hz, above the Nyquist frequency"
            f" {nyquist} Hz of {sampling_rate_hz} Hz sampling; lower it or sample faster"
        )
    n = centred.size
    spectrum = np.fft.rfft(centred)
    power = np.abs(spectrum) ** 2 / n**2
    power[1:] *= 2  # one-sided: every bin but DC stands for a positive and a negative frequency
    if n % 2 == 0:
        power[-1] /= 2  # the Nyquist bin has no mirror
    freqs = np.fft.rfftfreq(n, d=1 / sampling_rate_hz)
    in_band = (freqs >= band.low_hz) & (freqs <= band.high_hz)
    return math.sqrt(float(power[in_band].sum()))


def vibration_window(
    samples: Sequence[Sample],
    sampling_rate_hz: float,
    *,
    bands: Sequence[FrequencyBand] = (),
    min_samples: int = 256,
    timing_tolerance: float = 0.5,
) -> VibrationFeatures | RefusedWindow:
    """Features of one vibration window, or the reason the window is refused.

    Consecutive source times must be 1 / sampling_rate_hz apart within `timing_tolerance`
    of one period; a longer step is a gap, a shorter one uneven sampling.
    """
    if not sampling_rate_hz > 0:
        raise ValueError(f"sampling_rate_hz must be > 0, got {sampling_rate_hz}")
    if min_samples < 4:
        raise ValueError(f"min_samples must be at least 4, got {min_samples}")
    ordered = sorted(samples, key=lambda s: s.source_time)
    start = ordered[0].source_time if ordered else None
    end = ordered[-1].source_time if ordered else None
    if len(ordered) < min_samples:
        return RefusedWindow(
            start, end, "too_few_samples", f"{len(ordered)} samples < {min_samples} needed"
        )
    not_good = sum(s.quality is not Quality.GOOD for s in ordered)
    if not_good:
        return RefusedWindow(
            start, end, "not_good", f"{not_good} samples are not Good; a waveform has no gaps"
        )
    period = 1.0 / sampling_rate_hz
    first = ordered[0].source_time
    steps = np.diff([(s.source_time - first).total_seconds() for s in ordered])
    widest, narrowest = int(np.argmax(steps)), int(np.argmin(steps))
    if steps[widest] > period * (1 + timing_tolerance):
        return RefusedWindow(
            start,
            end,
            "gap",
            f"{steps[widest] * 1e3:.3f} ms between samples {widest} and {widest + 1}"
            f" (period {period * 1e3:.3f} ms at {sampling_rate_hz:g} Hz)",
        )
    if steps[narrowest] < period * (1 - timing_tolerance):
        return RefusedWindow(
            start,
            end,
            "uneven_sampling",
            f"{steps[narrowest] * 1e3:.3f} ms between samples {narrowest} and {narrowest + 1}"
            f" (period {period * 1e3:.3f} ms); duplicated or jittered time stamps",
        )
    try:
        stats = waveform_stats([s.value for s in ordered], sampling_rate_hz, bands)
    except ValueError as err:
        if "constant" not in str(err):
            raise
        return RefusedWindow(start, end, "flat_signal", str(err))
    assert start is not None and end is not None
    return VibrationFeatures(start=start, end=end, sampling_rate_hz=sampling_rate_hz, stats=stats)


def temperature_window(
    samples: Sequence[Sample], *, max_gap_seconds: float, min_samples: int = 3
) -> TemperatureFeatures | RefusedWindow:
    """Mean and least-squares slope (per hour) of a window's Good temperatures, or why not."""
    if min_samples < 2:
        raise ValueError(f"min_samples must be at least 2 to estimate a slope, got {min_samples}")
    if not max_gap_seconds > 0:
        raise ValueError(f"max_gap_seconds must be > 0, got {max_gap_seconds}")
    good = sorted((s for s in samples if s.quality is Quality.GOOD), key=lambda s: s.source_time)
    start = good[0].source_time if good else None
    end = good[-1].source_time if good else None
    dropped = len(samples) - len(good)
    if len(good) < min_samples:
        return RefusedWindow(
            start,
            end,
            "too_few_samples",
            f"{len(good)} Good samples < {min_samples} needed ({dropped} not Good dropped)",
        )
    seconds = np.array([(s.source_time - good[0].source_time).total_seconds() for s in good])
    steps = np.diff(seconds)
    if steps.max() > max_gap_seconds:
        i = int(np.argmax(steps))
        return RefusedWindow(
            start,
            end,
            "gap",
            f"{steps[i]:.1f} s without a Good temperature after {good[i].source_time:%H:%M:%S}"
            f" (allowed {max_gap_seconds:g} s)",
        )
    hours = seconds / SECONDS_PER_HOUR
    values = np.array([s.value for s in good])
    if hours[-1] == 0:
        return RefusedWindow(start, end, "uneven_sampling", "all samples share one time stamp")
    centred_t = hours - hours.mean()
    slope = float(np.dot(centred_t, values - values.mean()) / np.dot(centred_t, centred_t))
    assert start is not None and end is not None
    return TemperatureFeatures(
        start=start, end=end, samples=len(good), mean=float(values.mean()), slope_per_hour=slope
    )

"""Crafted condition-monitoring data: healthy and faulty vibration windows, sample series."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from factory_agents.catalog.maintenance.features import FrequencyBand, waveform_stats
from factory_agents.plant import Sample

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FS = 20_000.0
WINDOW = 4096
SHAFT_HZ = 29.5
BPFO_HZ = 107.0  # outer-race defect frequency of a rolling bearing at this shaft speed
RESONANCE_HZ = 3000.0
RESONANCE = FrequencyBand("resonance", 2500.0, 3500.0)
VIBRATION_FEATURES = ("rms", "kurtosis", "crest_factor", "band_rms:resonance")


def samples(
    values: Sequence[float] | np.ndarray, rate_hz: float, start: datetime = NOW, tag: str = "vib"
) -> list[Sample]:
    """Evenly spaced samples of the values, the first at `start`."""
    step = timedelta(seconds=1 / rate_hz)
    return [
        Sample(tag=tag, value=float(v), source_time=start + i * step) for i, v in enumerate(values)
    ]


def healthy_windows(rng: np.random.Generator, count: int) -> np.ndarray:
    """Acceleration of a healthy machine: shaft sine at a random phase plus Gaussian noise."""
    t = np.arange(WINDOW) / FS
    phase = rng.uniform(0, 2 * np.pi, (count, 1))
    return 0.5 * np.sin(2 * np.pi * SHAFT_HZ * t + phase) + rng.normal(0, 1.0, (count, WINDOW))


def faulty_window(rng: np.random.Generator, impulse: float) -> np.ndarray:
    """A healthy window plus an outer-race impulse train: a 3 kHz resonance rung at BPFO."""
    t = np.arange(WINDOW) / FS
    since_impact = np.mod(t - rng.uniform(0, 1 / BPFO_HZ), 1 / BPFO_HZ)
    ringing = np.exp(-since_impact / 0.0004) * np.sin(2 * np.pi * RESONANCE_HZ * since_impact)
    window: np.ndarray = healthy_windows(rng, 1)[0] + impulse * ringing
    return window


def features_of(window: np.ndarray) -> dict[str, float]:
    """The detector's features of one window."""
    s = waveform_stats(window, FS, [RESONANCE])
    return {
        "rms": s.rms,
        "kurtosis": s.kurtosis,
        "crest_factor": s.crest_factor,
        "band_rms:resonance": s.band_rms["resonance"],
    }

"""SPC on 1,000,000 samples: the agent's own statistics against a plain NumPy/SciPy baseline.

Run with `make bench` (or `.venv/bin/python benchmarks/spc_million.py`). One seeded series of
1,000,000 fill weights with a 1-sigma shift halfway, as a Python list (what the agent gets) and
as a NumPy array (what the baseline gets). Timed, median of REPEATS, in the same process:

- sigma from the mean moving range: `spc.sigma_from_moving_range` against `np.diff`;
- EWMA: `spc.ewma` against `scipy.signal.lfilter` (the same recursion as a linear filter);
- two-sided tabular CUSUM: `spc.tabular_cusum` against a NumPy baseline that runs the same
  recursion with `np.frompyfunc(...).accumulate` (CUSUM's max(0, ...) has no closed form).

Each baseline's result is checked against the agent's (to 1e-9): a faster wrong answer is no
baseline. The agent judges a few hundred points per run; this shows what its pure-Python
statistics cost at a million, against the vectorised form. Prints a table and writes
benchmarks/results/spc_million.json; no target, so no PASS/FAIL.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from factory_agents.catalog.quality import spc

SAMPLES = 1_000_000
REPEATS = 5
TARGET, SIGMA, LAMBDA, K = 500.0, 0.8, 0.2, 0.5
RESULTS = Path(__file__).resolve().parent / "results" / "spc_million.json"
Floats = npt.NDArray[np.float64]


def series() -> Floats:
    """Seeded fill weights, shifted by one sigma from the middle on."""
    rng = np.random.default_rng(20_261_124)
    values = rng.normal(TARGET, SIGMA, SAMPLES)
    values[SAMPLES // 2 :] += SIGMA
    return values


def numpy_sigma(x: Floats) -> float:
    """Mean moving range over d2."""
    return float(np.abs(np.diff(x)).mean() / spc.D2_FOR_MOVING_RANGE_OF_2)


def numpy_ewma(x: Floats) -> Floats:
    """z_i = lam*x_i + (1-lam)*z_(i-1), z_0 = target, as a first-order linear filter."""
    z, _ = lfilter([LAMBDA], [1.0, LAMBDA - 1.0], x, zi=[(1.0 - LAMBDA) * TARGET])
    return np.asarray(z, dtype=np.float64)


def numpy_cusum(x: Floats, sigma: float) -> tuple[Floats, Floats]:
    """C+ and C- by accumulating max(0, c + step) over the precomputed steps."""
    step = np.frompyfunc(lambda c, d: max(0.0, c + d), 2, 1)
    upper = step.accumulate(np.concatenate(([0.0], x - (TARGET + K * sigma))), dtype=object)
    lower = step.accumulate(np.concatenate(([0.0], (TARGET - K * sigma) - x)), dtype=object)
    return upper[1:].astype(np.float64), lower[1:].astype(np.float64)


def median_seconds(work: Callable[[], Any]) -> tuple[float, Any]:
    """Median wall time of REPEATS calls, and the last result."""
    times, result = [], None
    for _ in range(REPEATS):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def main() -> int:
    """Time each statistic both ways, check they agree, print and save."""
    array = series()
    values = array.tolist()
    sigma = spc.sigma_from_moving_range(values)
    rows: dict[str, dict[str, float]] = {}

    agent_s, mine = median_seconds(lambda: spc.sigma_from_moving_range(values))
    base_s, theirs = median_seconds(lambda: numpy_sigma(array))
    assert abs(mine - theirs) < 1e-9, (mine, theirs)
    rows["sigma (moving range)"] = {"agent_s": agent_s, "numpy_s": base_s}

    agent_s, z = median_seconds(lambda: spc.ewma(values, TARGET, LAMBDA))
    base_s, zb = median_seconds(lambda: numpy_ewma(array))
    assert np.allclose(z, zb, rtol=0, atol=1e-9)
    rows["EWMA"] = {"agent_s": agent_s, "numpy_s": base_s}

    agent_s, sums = median_seconds(lambda: spc.tabular_cusum(values, TARGET, sigma, K))
    base_s, (up, low) = median_seconds(lambda: numpy_cusum(array, sigma))
    assert np.allclose(sums.upper, up, atol=1e-9) and np.allclose(sums.lower, low, atol=1e-9)
    rows["tabular CUSUM"] = {"agent_s": agent_s, "numpy_s": base_s}

    print(f"SPC on {SAMPLES:,} samples, median of {REPEATS}")
    print(f"{'statistic':22} {'agent':>10} {'numpy/scipy':>12} {'agent/baseline':>15}")
    for name, row in rows.items():
        row["ratio"] = row["agent_s"] / row["numpy_s"]
        print(
            f"{name:22} {row['agent_s'] * 1e3:8.0f} ms {row['numpy_s'] * 1e3:9.0f} ms"
            f" {row['ratio']:14.1f}x"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"samples": SAMPLES, "repeats": REPEATS, **rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

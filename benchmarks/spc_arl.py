"""Average run lengths of the agent's control charts by Monte Carlo, against Montgomery's tables.

Run with `make bench`. Each chart is simulated with numpy over many independent runs at once;
the vectorised recursions are checked, on a few seeded runs, to stop at exactly the sample
where the agent's own functions in `factory_agents.catalog.quality.spc` first signal.
Exits non-zero when a measured ARL is more than 5 % off its textbook value or the check fails.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from factory_agents.catalog.quality import spc

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
State = tuple[Floats, ...]
Draw = Callable[[int, Ints], Floats]  # (sample number from 1, ids of live runs) -> samples

CENTER, SIGMA = 0.0, 1.0  # known in-control mean and sigma: shifts are in sigma units
RUNS = 200_000  # standard error about 0.2 % of the ARL
TOLERANCE = 0.05
SEED = 20_261_123
CHECK_RUNS, CHECK_LENGTH = 20, 5_000
CONVENTIONS = (
    "known mean 0 and sigma 1; the shift is present from the first sample (zero-state ARL)",
    "Shewhart: individuals chart, signal on |x| > 3 sigma (Western Electric rule 1 only)",
    "EWMA: z0 = mean, asymptotic limits L*sigma*sqrt(lambda/(2-lambda)), as in the tables",
    "CUSUM: two-sided tabular, C+ = C- = 0 at the start, signal when C+ or C- > h*sigma",
    "textbook: Montgomery, Introduction to Statistical Quality Control: Shewhart 1/p,"
    " the tabular CUSUM and EWMA ARL tables (EWMA after Lucas and Saccucci 1990)",
)


@dataclass(frozen=True)
class Chart:
    """A control chart twice: as a numpy recursion over many runs, and through the agent's code."""

    name: str
    start: Callable[[int], State]
    step: Callable[[State, Floats, int], tuple[State, Bools]]
    agent_run_length: Callable[[list[float]], int]  # 1-based first signal, 0 if none


def shewhart_rule_one() -> Chart:
    """Individuals chart with 3-sigma limits, judged by Western Electric rule 1."""

    def step(state: State, x: Floats, t: int) -> tuple[State, Bools]:
        return state, np.abs((x - CENTER) / SIGMA) > 3

    def agent_run_length(values: list[float]) -> int:
        hits = spc.western_electric(values, CENTER, SIGMA)
        rule_one = [i for i, rules in hits.items() if any(r.startswith("WE1") for r in rules)]
        return min(rule_one, default=-1) + 1

    return Chart("Shewhart 3σ individuals", lambda n: (), step, agent_run_length)


def ewma_chart(lam: float, width: float, *, asymptotic: bool = True) -> Chart:
    """EWMA chart with asymptotic (textbook) or exact time-varying limits."""

    def half_width(t: int) -> float:
        if asymptotic:
            return spc.ewma_asymptotic_half_width(SIGMA, lam, width)
        return spc.ewma_half_width(t, SIGMA, lam, width)

    def step(state: State, x: Floats, t: int) -> tuple[State, Bools]:
        z = lam * x + (1 - lam) * state[0]
        return (z,), np.abs(z - CENTER) > half_width(t)

    def agent_run_length(values: list[float]) -> int:
        smoothed = spc.ewma(values, CENTER, lam)
        beyond = (i for i, z in enumerate(smoothed) if abs(z - CENTER) > half_width(i + 1))
        return next(beyond, -1) + 1

    limits = "asymptotic" if asymptotic else "exact"
    name = f"EWMA λ {lam:g} L {width:g} ({limits})"
    return Chart(name, lambda n: (np.full(n, CENTER),), step, agent_run_length)


def cusum_chart(k: float, h: float) -> Chart:
    """Two-sided tabular CUSUM with allowance k and decision interval h, in sigma."""
    allowance, limit = k * SIGMA, h * SIGMA

    def step(state: State, x: Floats, t: int) -> tuple[State, Bools]:
        upper = np.maximum(0.0, x - (CENTER + allowance) + state[0])
        lower = np.maximum(0.0, (CENTER - allowance) - x + state[1])
        return (upper, lower), (upper > limit) | (lower > limit)

    def agent_run_length(values: list[float]) -> int:
        sums = spc.tabular_cusum(values, CENTER, SIGMA, k)
        beyond = (i for i, c in enumerate(zip(*sums, strict=True)) if max(c) > limit)
        return next(beyond, -1) + 1

    return Chart(
        f"CUSUM k {k:g} h {h:g}", lambda n: (np.zeros(n), np.zeros(n)), step, agent_run_length
    )


def run_lengths(chart: Chart, runs: int, draw: Draw, max_length: int | None = None) -> Ints:
    """Sample number of each run's first signal (0 if none within max_length)."""
    lengths = np.zeros(runs, dtype=np.int64)
    live = np.arange(runs, dtype=np.int64)
    state = chart.start(runs)
    t = 0
    while live.size and (max_length is None or t < max_length):
        t += 1
        state, signal = chart.step(state, draw(t, live), t)
        lengths[live[signal]] = t
        keep = ~signal
        live = live[keep]
        state = tuple(s[keep] for s in state)
    return lengths


def agrees_with_agent(chart: Chart, shift: float, seed: int) -> bool:
    """Whether the numpy recursion and the agent's functions stop at the same samples."""
    rng = np.random.default_rng(seed)
    samples = rng.standard_normal((CHECK_RUNS, CHECK_LENGTH)) * SIGMA + CENTER + shift * SIGMA
    vectorised = run_lengths(chart, CHECK_RUNS, lambda t, live: samples[live, t - 1], CHECK_LENGTH)
    by_agent = [chart.agent_run_length(row.tolist()) for row in samples]
    return vectorised.tolist() == by_agent and all(by_agent)


@dataclass(frozen=True)
class Case:
    """One chart at one shift, with its textbook ARL (None: shown for information only)."""

    chart: Chart
    shift: float
    textbook: float | None


CASES = [
    Case(shewhart_rule_one(), 0.0, 370.4),
    Case(shewhart_rule_one(), 1.0, 43.9),
    Case(ewma_chart(0.1, 2.814), 0.0, 500.0),
    Case(ewma_chart(0.1, 2.814), 1.0, 10.3),
    Case(cusum_chart(0.5, 5.0), 0.0, 465.0),
    Case(cusum_chart(0.5, 5.0), 1.0, 10.4),
    Case(ewma_chart(0.1, 2.814, asymptotic=False), 0.0, None),
    Case(ewma_chart(0.1, 2.814, asymptotic=False), 1.0, None),
]


def main() -> int:
    """Measure every case, print the table, and return the process exit status."""
    print(f"Average run lengths by Monte Carlo: {RUNS:,} runs per row, seeds from {SEED}")
    for convention in CONVENTIONS:
        print(f"  - {convention}")
    header = f"{'chart':<32}{'shift':>6}{'measured':>10}{'s.e. (rel.)':>14}{'textbook':>10}"
    print(f"\n{header}{'ratio':>8}  check")
    failures, disagreements = 0, 0
    started = time.perf_counter()
    for number, case in enumerate(CASES):
        seed = SEED + number
        if not agrees_with_agent(case.chart, case.shift, seed + 1_000):
            print(f"FAIL {case.chart.name}: numpy recursion and agent functions disagree")
            disagreements += 1
        rng = np.random.default_rng(seed)
        shift = case.shift * SIGMA

        def draw(
            t: int, live: Ints, rng: np.random.Generator = rng, shift: float = shift
        ) -> Floats:
            return rng.standard_normal(live.size) * SIGMA + CENTER + shift

        lengths = run_lengths(case.chart, RUNS, draw)
        arl = float(lengths.mean())
        error = float(lengths.std(ddof=1)) / np.sqrt(RUNS)
        row = f"{case.chart.name:<32}{case.shift:>5g}σ{arl:>10.1f}{error:>7.2f} ({error / arl:.1%})"
        if case.textbook is None:
            print(f"{row}{'-':>10}{'-':>8}  info", flush=True)
            continue
        ratio = arl / case.textbook
        passed = abs(ratio - 1) <= TOLERANCE
        failures += not passed
        print(
            f"{row}{case.textbook:>10.1f}{ratio:>8.3f}  {'PASS' if passed else 'FAIL'}", flush=True
        )
    print("\ninfo rows: the agent decides with exact (time-varying) EWMA limits, which signal")
    print("earlier than the asymptotic ones the textbook tables use.")
    agreement = "FAIL" if disagreements else "PASS"
    print(f"{agreement}: on {CHECK_RUNS} seeded runs per row the numpy recursions stop at the")
    print("same sample as the agent's spc.western_electric, spc.ewma and spc.tabular_cusum")
    checked = sum(case.textbook is not None for case in CASES)
    elapsed = time.perf_counter() - started
    verdict = "FAIL" if failures or disagreements else "PASS"
    print(f"{verdict}: {failures} of {checked} ARL checks outside ±5 %; {elapsed:.0f} s")
    return 1 if failures or disagreements else 0


if __name__ == "__main__":
    sys.exit(main())

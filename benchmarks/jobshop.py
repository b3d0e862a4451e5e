"""Job-shop sequencing on ft10, la21 and ta01: CP-SAT against dispatching and the best known.

Run with `python benchmarks/jobshop.py`. For each instance the best of the dispatching rules
(Giffler–Thompson with SPT, LPT, MWKR, MOR, FIFO, EDD) is the baseline, measured in the same
run; CP-SAT then gets 10 s and 2 workers, warm-started from it. Each row prints both makespans,
CP-SAT's proven lower bound, the best known makespan (all three proven optimal), the gap to it,
the ratio CP-SAT / dispatching, and PASS when CP-SAT is within 2 % of the best known.
Every schedule is checked by `Schedule.validate`. The figures also go to
benchmarks/results/jobshop.json. Exits non-zero when a row fails.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

from factory_agents.catalog.scheduling.cpsat import SolverSettings, solve
from factory_agents.catalog.scheduling.instances import BEST_KNOWN, load_known

TIME_LIMIT_SECONDS = 10.0
WORKERS = 2
SEED = 0
TOLERANCE = 0.02
RESULTS = Path(__file__).parent / "results" / "jobshop.json"


@dataclass(frozen=True)
class Row:
    """One instance's figures."""

    instance: str
    jobs: int
    machines: int
    dispatch_rule: str
    dispatch_makespan: int
    cpsat_makespan: int
    cpsat_status: str
    lower_bound: int
    best_known: int
    gap_to_best_known: float
    ratio_cpsat_to_dispatch: float
    seconds: float
    passed: bool


def measure(name: str) -> Row:
    """Solve one shipped instance and compare it with its dispatching baseline and best known."""
    instance = load_known(name)
    started = time.perf_counter()
    result = solve(instance, "makespan", SolverSettings(TIME_LIMIT_SECONDS, WORKERS, SEED))
    seconds = time.perf_counter() - started
    result.schedule.validate(instance)
    result.dispatch.best.validate(instance)
    best_known = BEST_KNOWN[name]
    makespan = result.schedule.makespan
    gap = (makespan - best_known) / best_known
    return Row(
        instance=name,
        jobs=len(instance.jobs),
        machines=len(instance.machines),
        dispatch_rule=result.dispatch.best_rule,
        dispatch_makespan=result.dispatch.best.makespan,
        cpsat_makespan=makespan,
        cpsat_status=result.status,
        lower_bound=result.lower_bound,
        best_known=best_known,
        gap_to_best_known=gap,
        ratio_cpsat_to_dispatch=makespan / result.dispatch.best.makespan,
        seconds=seconds,
        passed=gap <= TOLERANCE,
    )


def main() -> int:
    """Measure every instance, print the table, write the JSON, return the exit status."""
    cores = os.cpu_count()
    print(
        f"Job-shop makespan: CP-SAT (OR-Tools {version('ortools')}, {TIME_LIMIT_SECONDS:g} s, "
        f"{WORKERS} workers, seed {SEED}; {cores} cores here) against the best dispatching rule"
    )
    header = (
        f"{'instance':<9}{'size':>7}  {'dispatch':>14}{'CP-SAT':>8}  {'status':<9}{'bound':>6}"
        f"{'best known':>11}{'gap':>7}{'ratio':>7}{'time':>7}  check"
    )
    print(f"\n{header}")
    rows = []
    for name in BEST_KNOWN:
        row = measure(name)
        rows.append(row)
        print(
            f"{row.instance:<9}{row.jobs:>3}x{row.machines:<3}  "
            f"{row.dispatch_rule:>5} {row.dispatch_makespan:>8}{row.cpsat_makespan:>8}  "
            f"{row.cpsat_status:<9}{row.lower_bound:>6}{row.best_known:>11}"
            f"{row.gap_to_best_known:>7.2%}{row.ratio_cpsat_to_dispatch:>7.3f}{row.seconds:>6.1f}s"
            f"  {'PASS' if row.passed else 'FAIL'}",
            flush=True,
        )
    failures = sum(not row.passed for row in rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "time_limit_seconds": TIME_LIMIT_SECONDS,
        "workers": WORKERS,
        "seed": SEED,
        "tolerance": TOLERANCE,
        "ortools": version("ortools"),
        "cores": cores,
        "rows": [asdict(row) for row in rows],
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print("\ngap: (CP-SAT - best known) / best known; ratio: CP-SAT / best dispatching makespan")
    verdict = "FAIL" if failures else "PASS"
    print(f"{verdict}: {failures} of {len(rows)} instances more than 2 % above the best known")
    print(f"written to {RESULTS}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

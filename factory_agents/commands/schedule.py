"""`factory-agents schedule`: sequence a job-shop instance file with CP-SAT and show the schedule.

OR-Tools is imported inside the command, so the CLI starts without loading it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from factory_agents.errors import ConfigurationError

if TYPE_CHECKING:
    from factory_agents.catalog.scheduling.cpsat import CpSatResult
    from factory_agents.catalog.scheduling.jobshop import Instance

schedule_app = typer.Typer(help="Job-shop scheduling: sequence jobs on machines with CP-SAT.")
console = Console(soft_wrap=True)
OBJECTIVE_CHOICES = ("makespan", "weighted_tardiness")


@schedule_app.command("solve")
def solve_command(
    file: Annotated[Path, typer.Argument(help="Instance file", show_default=False)],
    fmt: Annotated[
        str, typer.Option("--format", help="File format: orlib, taillard or json")
    ] = "orlib",
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="CP-SAT time limit in seconds")
    ] = 10.0,
    objective: Annotated[
        str, typer.Option("--objective", help="makespan or weighted_tardiness")
    ] = "makespan",
    workers: Annotated[int, typer.Option("--workers", help="CP-SAT search threads")] = 2,
    seed: Annotated[int, typer.Option("--seed", help="CP-SAT random seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Sequence the jobs of FILE with CP-SAT, warm-started by the best dispatching rule."""
    from factory_agents.catalog.scheduling.formats import FORMATS, load_instance

    if fmt not in FORMATS:
        raise ConfigurationError(f"unknown format {fmt!r}; use --format {' or '.join(FORMATS)}")
    if objective not in OBJECTIVE_CHOICES:
        raise ConfigurationError(
            f"unknown objective {objective!r}; use --objective {' or '.join(OBJECTIVE_CHOICES)}"
        )
    try:
        instance = load_instance(file, fmt)
    except OSError as err:
        raise ConfigurationError(f"cannot read {file}: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise ConfigurationError(f"cannot read {file}: it is not UTF-8 text") from err
    except ValueError as err:
        raise ConfigurationError(f"{file} is not a valid {fmt} instance: {err}") from err
    result = _solve(instance, objective, time_limit, workers, seed)
    if as_json:
        print(json.dumps(_as_dict(instance, result), indent=2))
        return
    _print_result(instance, result)


def _solve(
    instance: Instance, objective: str, time_limit: float, workers: int, seed: int
) -> CpSatResult:
    """Run CP-SAT; settings it cannot use become a ConfigurationError."""
    from factory_agents.catalog.scheduling.cpsat import SolverSettings, solve

    try:
        settings = SolverSettings(time_limit, workers, seed)
    except ValueError as err:
        raise ConfigurationError(str(err)) from err
    return solve(
        instance, "makespan" if objective == "makespan" else "weighted_tardiness", settings
    )


def _as_dict(instance: Instance, result: CpSatResult) -> dict[str, Any]:
    """The result as plain data for --json."""
    best = result.dispatch.best
    return {
        "instance": instance.name,
        "jobs": len(instance.jobs),
        "machines": len(instance.machines),
        "objective": result.objective,
        "status": result.status,
        "method": result.schedule.method,
        "value": result.value,
        "lower_bound": result.lower_bound,
        "gap": result.gap,
        "makespan": result.schedule.makespan,
        "weighted_tardiness": result.schedule.weighted_tardiness,
        "dispatch": {
            "rule": result.dispatch.best_rule,
            "value": best.value(result.objective),
            "makespan": best.makespan,
            "weighted_tardiness": best.weighted_tardiness,
        },
        "operations": [
            {
                "job": op.job,
                "op": op.index,
                "machine": op.machine,
                "start": op.start,
                "end": op.end,
                "setup_before": op.setup_before,
            }
            for op in result.schedule.operations
        ],
    }


def _print_result(instance: Instance, result: CpSatResult) -> None:
    """Summary lines and the schedule as a table, operations by start time."""
    label = result.objective.replace("_", " ")
    best = result.dispatch.best
    console.print(
        f"{instance.name}: {len(instance.jobs)} jobs x {len(instance.machines)} machines, "
        f"objective {label}"
    )
    status: str = result.status
    if status == "fallback":
        status = f"fallback to {result.schedule.method}: CP-SAT found nothing better in time"
    console.print(
        f"CP-SAT: {label} {result.value} ({status}), lower bound {result.lower_bound}, "
        f"gap {result.gap:.1%}"
    )
    console.print(
        f"best dispatching rule {result.dispatch.best_rule}: {label} {best.value(result.objective)}"
    )
    console.print(
        f"schedule: makespan {result.schedule.makespan}, "
        f"weighted tardiness {result.schedule.weighted_tardiness}"
    )
    table = Table("job", "op", "machine")
    for column in ("start", "end", *(("setup",) if instance.has_setups else ())):
        table.add_column(column, justify="right")
    for op in result.schedule.operations:
        row = [op.job, str(op.index), op.machine, str(op.start), str(op.end)]
        table.add_row(*row, *([str(op.setup_before)] if instance.has_setups else []))
    console.print(table)

"""`factory-agents schedule solve` on small files: the table, --json, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from factory_agents.catalog.scheduling.formats import read_orlib
from factory_agents.catalog.scheduling.jobshop import Schedule, ScheduledOperation
from factory_agents.commands.schedule import schedule_app
from factory_agents.errors import ConfigurationError

app = typer.Typer()
app.add_typer(schedule_app, name="schedule")
runner = CliRunner()


@pytest.fixture
def ft06_file(tmp_path: Path, ft06_text: str) -> Path:
    """ft06 as an OR-Library file."""
    path = tmp_path / "ft06.txt"
    path.write_text(ft06_text)
    return path


def test_solve_prints_makespan_bound_and_the_schedule_table(ft06_file: Path) -> None:
    result = runner.invoke(
        app, ["schedule", "solve", str(ft06_file), "--time-limit", "5"], env={"COLUMNS": "120"}
    )
    assert result.exit_code == 0, result.output
    # ft06's optimum is 55 (Fisher and Thompson 1963; OR-Library)
    assert "CP-SAT: makespan 55 (optimal), lower bound 55, gap 0.0%" in result.output
    assert "best dispatching rule" in result.output
    header = next(line for line in result.output.splitlines() if line.startswith("┃"))
    assert [word for word in header.replace("┃", " ").split()] == [
        "job",
        "op",
        "machine",
        "start",
        "end",
    ]
    rows = [line for line in result.output.splitlines() if line.startswith("│")]
    assert len(rows) == 36  # 6 jobs x 6 operations


def test_solve_json_gives_a_schedule_that_validates(ft06_file: Path, ft06_text: str) -> None:
    result = runner.invoke(
        app, ["schedule", "solve", str(ft06_file), "--time-limit", "5", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["instance"], data["jobs"], data["machines"]) == ("ft06", 6, 6)
    assert (data["status"], data["value"], data["lower_bound"], data["gap"]) == (
        "optimal",
        55,
        55,
        0,
    )
    assert data["dispatch"]["value"] >= 55
    instance = read_orlib(ft06_text, "ft06")
    ops = [
        ScheduledOperation(o["job"], o["op"], o["machine"], o["start"], o["end"], o["setup_before"])
        for o in data["operations"]
    ]
    schedule = Schedule(tuple(ops), data["makespan"], data["weighted_tardiness"], data["method"])
    schedule.validate(instance)
    assert schedule.makespan == 55


def test_a_file_in_the_wrong_format_is_one_clear_error(ft06_file: Path) -> None:
    result = runner.invoke(app, ["schedule", "solve", str(ft06_file), "--format", "taillard"])
    assert result.exit_code == 1
    assert isinstance(result.exception, ConfigurationError)
    message = str(result.exception)
    assert "\n" not in message
    assert "is not a valid taillard instance: line 3: a Times row needs 6 numbers" in message


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--format", "xml"], "unknown format 'xml'; use --format orlib or taillard or json"),
        (["--objective", "cost"], "unknown objective 'cost'"),
        (["--time-limit", "0"], "time_limit_seconds is 0.0; give a positive number"),
    ],
)
def test_unusable_options_are_one_clear_error(
    ft06_file: Path, arguments: list[str], message: str
) -> None:
    result = runner.invoke(app, ["schedule", "solve", str(ft06_file), *arguments])
    assert result.exit_code == 1
    assert isinstance(result.exception, ConfigurationError)
    assert message in str(result.exception)


def test_an_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    result = runner.invoke(app, ["schedule", "solve", str(missing)])
    assert result.exit_code == 1
    assert isinstance(result.exception, ConfigurationError)
    assert str(result.exception) == f"cannot read {missing}: No such file or directory"


def test_the_command_module_does_not_load_ortools() -> None:
    code = "import sys, factory_agents.commands.schedule; print('ortools' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_json_file_with_setups_shows_them_and_weighs_tardiness(tmp_path: Path) -> None:
    # By hand: B-200 meets its due date 4 only on the lathe at [0, 4]; A-100, released at 3,
    # runs on the press [3, 8] and the lathe [8, 11] (no setup from B to A; 4 only from A to B),
    # well before 40. No job is late: the optimum is 0, and the schedule is unique.
    path = tmp_path / "shop.json"
    path.write_text(
        json.dumps(
            {
                "jobs": [
                    {
                        "name": "A-100",
                        "due": 40,
                        "release": 3,
                        "operations": [
                            {"machine": "press", "duration": 5},
                            {"machine": "lathe", "duration": 3},
                        ],
                    },
                    {
                        "name": "B-200",
                        "due": 4,
                        "operations": [{"machine": "lathe", "duration": 4}],
                    },
                ],
                "setup": {"lathe": {"A-100": {"B-200": 4}}},
            }
        )
    )
    arguments = ["--format", "json", "--objective", "weighted_tardiness", "--time-limit", "5"]
    result = runner.invoke(app, ["schedule", "solve", str(path), *arguments])
    assert result.exit_code == 0, result.output
    assert "CP-SAT: weighted tardiness 0 (optimal)" in result.output
    header = next(line for line in result.output.splitlines() if line.startswith("┃"))
    assert header.replace("┃", " ").split()[-1] == "setup"
    table = [line.replace("│", " ").split() for line in result.output.splitlines()]
    rows = [cells for cells in table if cells and cells[0] in ("A-100", "B-200")]
    assert sorted(rows) == [
        ["A-100", "0", "press", "3", "8", "0"],
        ["A-100", "1", "lathe", "8", "11", "0"],
        ["B-200", "0", "lathe", "0", "4", "0"],
    ]

"""Instance files: OR-Library, Taillard and JSON readers, malformed files, and the shipped data."""

from __future__ import annotations

import pytest

from factory_agents.catalog.scheduling.formats import (
    read_instance,
    read_json,
    read_orlib,
    read_taillard,
    to_json,
)
from factory_agents.catalog.scheduling.instances import BEST_KNOWN, known_path, load_known
from factory_agents.catalog.scheduling.jobshop import Instance

# ft06 in Taillard's layout (machines from 1), written by hand from the OR-Library lines.
FT06_TAILLARD = """\
Nb of jobs, Nb of Machines, Time seed, Machine seed, Upper bound, Lower bound
 6 6 0 0 55 55
Times
 1  3  6  7  3  6
 8  5 10 10 10  4
 5  4  8  9  1  7
 5  5  5  3  8  9
 9  3  5  4  3  1
 3  3  9 10  4  1
Machines
 3  1  2  4  6  5
 2  3  5  6  1  4
 3  4  6  1  2  5
 2  1  3  4  5  6
 3  2  5  6  1  4
 2  4  6  1  5  3
"""

JSON_EXAMPLE = """\
{
  "name": "press shop",
  "machines": ["press", "lathe"],
  "jobs": [
    {"name": "A-100", "due": 40, "weight": 2, "release": 3,
     "operations": [{"machine": "press", "duration": 5},
                    {"machine": "lathe", "duration": 3}]},
    {"name": "B-200",
     "operations": [{"machine": "lathe", "duration": 4}]}
  ],
  "setup": {"lathe": {"A-100": {"B-200": 4}}}
}
"""


def route(instance: Instance, job: int) -> list[tuple[str, int]]:
    """A job's (machine, duration) steps."""
    return [(op.machine, op.duration) for op in instance.jobs[job].operations]


def test_orlib_reads_pairs_with_machines_from_zero(ft06: Instance) -> None:
    assert (len(ft06.jobs), ft06.machines) == (6, ("0", "1", "2", "3", "4", "5"))
    assert route(ft06, 0) == [("2", 1), ("0", 3), ("1", 6), ("3", 7), ("5", 3), ("4", 6)]
    # ft06's total processing time, summed by hand over the six OR-Library lines: 26+47+34+35+25+30
    assert ft06.total_work == 197


def test_taillard_with_labels_and_the_plain_variant_read_as_the_same_instance(
    ft06: Instance,
) -> None:
    labelled = read_taillard(FT06_TAILLARD, "ft06")
    plain = "\n".join(
        line for line in FT06_TAILLARD.splitlines()[1:] if line not in ("Times", "Machines")
    )
    assert labelled == ft06
    assert read_taillard(plain, "ft06") == ft06


def test_json_reads_names_due_dates_weights_releases_and_setups() -> None:
    instance = read_json(JSON_EXAMPLE, "file-name")
    assert instance.name == "press shop"
    assert instance.machines == ("press", "lathe")
    a, b = instance.jobs
    assert (a.name, a.due, a.weight, a.release, a.work) == ("A-100", 40, 2, 3, 8)
    assert (b.name, b.due, b.weight, b.release) == ("B-200", None, 1, 0)
    assert instance.setup_time("lathe", "A-100", "B-200") == 4
    assert instance.setup_time("lathe", "B-200", "A-100") == 0


def test_json_machines_default_to_their_order_of_first_use_and_round_trip() -> None:
    text = '{"jobs": [{"name": "x", "operations": [{"machine": "b", "duration": 1},'
    text += ' {"machine": "a", "duration": 2}]}]}'
    instance = read_json(text, "from-file")
    assert (instance.name, instance.machines) == ("from-file", ("b", "a"))
    full = read_json(JSON_EXAMPLE)
    assert read_json(to_json(full)) == full


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("2 2 7\n0 1 1 1\n1 1 0 1\n", "line 1: the header must be two numbers"),
        ("2 x\n", "line 1: 'x' is not a whole number"),
        ("2 2\n0 1 1 1\n1 1 0\n", "line 3: expected 4 numbers .* found 3"),
        ("2 2\n0 1 1 1\n1 1 2 1\n", "line 3: machine 2 is outside 0..1"),
        ("2 2\n# comment\n0 1 1 0\n1 1 0 1\n", "line 3: duration 0 is not positive"),
        ("2 2\n0 1 1 1\n", "promises 2 job lines, the file has 1"),
        ("1 2\n0 1 1 1\n0 1 1 1\n", "line 3: unexpected content after the 1 job lines"),
        ("0 2\n", "line 1: need at least one job and one machine"),
    ],
)
def test_malformed_orlib_files_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_orlib(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Nb of jobs\n", "no header"),
        ("2 2\nTimes\n1 2\n3 4\nMachines\n1 2\n2 0\n", "line 7: machine 0 is outside 1..2 .*orlib"),
        ("2 2\nTimes\n1 2\n3 4 5\n", "line 4: a Times row needs 2 numbers, found 3"),
        ("2 2\nTimes\n1 2\nMachines\n1 2\n2 1\n", "line 4: the Times matrix needs 2 rows"),
        ("2 2\nMachines\n1 2\n", "line 2: expected the Times matrix, found 'Machines'"),
        ("2 2\n1 2\n3 4\n1 2\n", "the Machines matrix needs 2 rows"),
        ("2 2\n1 2\n3 4\n1 2\n2 1\n9 9\n", "line 6: unexpected content after the Machines"),
        ("2 2\n1 0\n3 4\n1 2\n2 1\n", "line 2: duration 0 is not positive"),
    ],
)
def test_malformed_taillard_files_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_taillard(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"jobs": [\n  {"name": "x",}\n]}', "line 2: not valid JSON"),
        ('{"jobs": []}', "jobs: List should have at least 1 item"),
        (
            '{"jobs": [{"name": "x", "weigth": 2, '
            '"operations": [{"machine": "m", "duration": 1}]}]}',
            "jobs.0.weigth: Extra inputs are not permitted",
        ),
        (
            '{"jobs": [{"name": "x", "operations": [{"machine": "m", "duration": "5"}]}]}',
            "jobs.0.operations.0.duration: Input should be a valid integer",
        ),
        (
            '{"jobs": [{"name": "x", "operations": [{"machine": "m", "duration": 0}]}]}',
            "jobs.0.operations.0.duration: Input should be greater than or equal to 1",
        ),
        (
            '{"machines": ["a"], "jobs": [{"name": "x", "operations": [{"machine": "m", '
            '"duration": 1}]}]}',
            "job 'x' operation 0 runs on unknown machine 'm'",
        ),
        (
            '{"jobs": [{"name": "x", "operations": [{"machine": "m", "duration": 1}]}], '
            '"setup": {"m": {"x": {"y": 3}}}}',
            "names a job that is not in the instance",
        ),
    ],
)
def test_malformed_json_files_say_where(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_json(text)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown instance format 'xml'; use one of orlib"):
        read_instance("1 1\n0 1\n", "xml")


# Sizes and total processing times, summed from OR-Library's jobshop1.txt (ft10, la21) and from
# the instance Taillard's generator produces for ta01's seeds (see the test below).
SHIPPED = {"ft10": (10, 10, 5109), "la21": (15, 10, 7994), "ta01": (15, 15, 11671)}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_instances_have_their_published_shape(name: str) -> None:
    instance = load_known(name)
    n_jobs, n_machines, total = SHIPPED[name]
    assert (len(instance.jobs), len(instance.machines)) == (n_jobs, n_machines)
    for job in instance.jobs:
        assert sorted(op.machine for op in job.operations) == sorted(instance.machines)
    assert instance.total_work == total
    assert name in BEST_KNOWN


def pairs(line: str) -> list[tuple[str, int]]:
    """An OR-Library job line as (machine, duration) steps."""
    values = line.split()
    return [
        (machine, int(duration))
        for machine, duration in zip(values[::2], values[1::2], strict=True)
    ]


def test_ft10_and_la21_start_and_end_as_in_or_library() -> None:
    # First and last job lines of ft10 and la21, copied from OR-Library's jobshop1.txt (Beasley).
    ft10, la21 = load_known("ft10"), load_known("la21")
    assert route(ft10, 0) == pairs("0 29 1 78 2  9 3 36 4 49 5 11 6 62 7 56 8 44 9 21")
    assert route(ft10, 9) == pairs("1 85 0 13 2 61 6  7 8 64 9 76 5 47 3 52 4 90 7 45")
    assert route(la21, 0) == pairs("2 34 3 55 5 95 9 16 4 21 6 71 0 53 8 52 1 21 7 26")
    assert route(la21, 14) == pairs("4 61 3 55 6 37 5 14 2 50 8 79 1 41 9 72 7 18 0 75")


def taillard_unif(seed: int, low: int, high: int) -> tuple[int, int]:
    """Taillard's (1993) generator: seed' = 16807 seed mod (2^31 - 1), by Schrage's method."""
    m, a, b, c = 2_147_483_647, 16_807, 127_773, 2_836
    k = seed // b
    seed = a * (seed % b) - k * c
    if seed < 0:
        seed += m
    return seed, low + int(seed / m * (high - low + 1))


def test_ta01_is_what_taillards_generator_makes_from_its_seeds() -> None:
    # E. Taillard, "Benchmarks for basic scheduling problems", EJOR 64 (1993) 278-285: times
    # U[1, 99] drawn row by row from the time seed, then each job's machine order from the
    # identity by swapping position j with U[j, m-1] drawn from the machine seed.
    time_seed, machine_seed, n, m = 840_612_802, 398_197_754, 15, 15
    times = []
    for _ in range(n):
        row = []
        for _ in range(m):
            time_seed, value = taillard_unif(time_seed, 1, 99)
            row.append(value)
        times.append(row)
    orders = []
    for _ in range(n):
        order = list(range(m))
        for j in range(m):
            machine_seed, k = taillard_unif(machine_seed, j, m - 1)
            order[j], order[k] = order[k], order[j]
        orders.append(order)
    instance = load_known("ta01")
    for job in range(n):
        assert route(instance, job) == [
            (str(machine), duration)
            for machine, duration in zip(orders[job], times[job], strict=True)
        ]
    assert known_path("ta01").read_text().splitlines()[1].split()[:4] == [
        "15",
        "15",
        "840612802",
        "398197754",
    ]

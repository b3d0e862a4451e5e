"""Small job-shop instances whose schedules can be worked out by hand, and ft06."""

from __future__ import annotations

import pytest

from factory_agents.catalog.scheduling.formats import read_orlib
from factory_agents.catalog.scheduling.jobshop import Instance, Job

# ft06 (mt06), Fisher and Thompson (1963), as in OR-Library jobshop1.txt and in OR-Tools'
# examples/python/jobshop_ft06_sat.py; optimum makespan 55.
FT06_ORLIB = """\
# ft06: Fisher and Thompson 6x6 instance, optimum 55
6 6
2  1  0  3  1  6  3  7  5  3  4  6
1  8  2  5  4 10  5 10  0 10  3  4
2  5  3  4  5  8  0  9  1  1  4  7
1  5  0  5  2  5  3  3  4  8  5  9
2  9  1  3  4  5  5  4  0  3  3  1
1  3  3  3  5  9  0 10  4  4  2  1
"""


@pytest.fixture
def ft06_text() -> str:
    """ft06 as OR-Library text."""
    return FT06_ORLIB


@pytest.fixture
def ft06() -> Instance:
    """Fisher and Thompson's 6x6 instance."""
    return read_orlib(FT06_ORLIB, "ft06")


@pytest.fixture
def three_by_three() -> Instance:
    """3 jobs x 3 machines; machine M1 carries 11 units of work, so no makespan beats 11."""
    return Instance(
        jobs=(
            Job.from_route("J0", [("M0", 3), ("M1", 2), ("M2", 2)], due=9),
            Job.from_route("J1", [("M0", 2), ("M2", 1), ("M1", 5)], due=6),
            Job.from_route("J2", [("M1", 4), ("M2", 3), ("M0", 2)], due=12),
        ),
        machines=("M0", "M1", "M2"),
        name="three-by-three",
    )


@pytest.fixture
def one_machine_with_setups() -> Instance:
    """Three 2-unit jobs on one machine; only A->B and B->C have short (1-unit) setups."""
    short = {("A", "B"), ("B", "C")}
    names = ("C", "B", "A")  # listed so that first-listed-wins ties pick a bad order
    setup = {"M": {a: {b: 1 if (a, b) in short else 5 for b in names if b != a} for a in names}}
    return Instance(
        jobs=tuple(Job.from_route(name, [("M", 2)]) for name in names),
        machines=("M",),
        setup=setup,
        name="setups",
    )

"""Benchmark job-shop instances shipped with the catalog, and their best known makespans.

- ft10: Fisher and Thompson (1963), 10 jobs x 10 machines, OR-Library format.
- la21: Lawrence (1984), 15 x 10, OR-Library format.
- ta01: Taillard (1993), 15 x 15, Taillard format (time seed 840612802, machine seed 398197754).

The data of ft10 and la21 are those of OR-Library's jobshop1.txt (checked number by number
against the JSPLIB-style copies in a second repository); ta01 is the one Taillard's own
generator produces from its seeds (the tests regenerate it). All three optima are proven:
OR-Library's jobshop table and van Hoorn, "The current state of bounds on benchmark instances
of the job-shop scheduling problem", Journal of Scheduling 21 (2018), list 930, 1046 and 1231.
"""

from __future__ import annotations

from pathlib import Path

from factory_agents.catalog.scheduling.formats import FormatName, load_instance
from factory_agents.catalog.scheduling.jobshop import Instance

FOLDER = Path(__file__).parent
BEST_KNOWN: dict[str, int] = {"ft10": 930, "la21": 1046, "ta01": 1231}
FORMAT: dict[str, FormatName] = {"ft10": "orlib", "la21": "orlib", "ta01": "taillard"}


def known_path(name: str) -> Path:
    """The file of a shipped instance."""
    if name not in FORMAT:
        raise ValueError(f"no shipped instance {name!r}; choose one of {', '.join(FORMAT)}")
    return FOLDER / f"{name}.txt"


def load_known(name: str) -> Instance:
    """A shipped instance, read from its file."""
    return load_instance(known_path(name), FORMAT[name])

"""Readers for job-shop instance files: OR-Library, Taillard, and this platform's JSON.

OR-Library (``orlib``), as in J. E. Beasley's jobshop1.txt and the JSPLIB collection: a line
``n_jobs n_machines``, then one line per job with a ``machine duration`` pair per operation in
routing order, machines numbered from 0. Blank lines and lines starting with ``#`` are skipped.

Taillard (``taillard``), as in Taillard (1993) and his tai*.txt files: an optional text line
(``Nb of jobs, Nb of Machines, Time seed, Machine seed, Upper bound, Lower bound``), a line
whose first two numbers are ``n_jobs n_machines`` (seeds and bounds may follow), then the
``Times`` matrix (one row per job: durations in routing order) and the ``Machines`` matrix
(one row per job: the machine of each step, numbered from 1). The ``Times`` and ``Machines``
labels may be left out (the plain two-matrix variant).

Both number machines and jobs as the files do, from 0: machines "0" .. "m-1", jobs "0" ..
"n-1" (a Taillard machine k becomes "k-1", so one instance reads the same in both formats).

JSON (``json``), for plant data with names, due dates, weights, releases and setup times::

    {
      "name": "press shop, week 12",          optional, default: the file name
      "machines": ["press", "lathe"],         optional, default: in order of first use
      "jobs": [
        {"name": "A-100", "due": 40, "weight": 2, "release": 0,
         "operations": [{"machine": "press", "duration": 5},
                        {"machine": "lathe", "duration": 3}]},
        {"name": "B-200",
         "operations": [{"machine": "lathe", "duration": 4}]}
      ],
      "setup": {"press": {"A-100": {"B-200": 4}}}
    }

Times are whole time units. ``due`` (default none: never tardy), ``weight`` (default 1) and
``release`` (default 0) are optional. ``setup[machine][from_job][to_job]`` is the time that must
pass on ``machine`` between an operation of ``from_job`` and the next one, of ``to_job``;
pairs not given are 0. Unknown keys are refused, so a misspelt ``"weigth"`` is not ignored.

Malformed files raise ValueError naming the line (or, for JSON fields, the path) that is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from factory_agents.catalog.scheduling.jobshop import Instance, Job

FormatName = Literal["orlib", "taillard", "json"]
FORMATS: tuple[FormatName, ...] = ("orlib", "taillard", "json")
Line = tuple[int, list[str]]  # (1-based line number, whitespace-separated tokens)


def read_instance(text: str, fmt: str, name: str = "instance") -> Instance:
    """An instance from the text of a file in one of FORMATS."""
    if fmt == "orlib":
        return read_orlib(text, name)
    if fmt == "taillard":
        return read_taillard(text, name)
    if fmt == "json":
        return read_json(text, name)
    raise ValueError(f"unknown instance format {fmt!r}; use one of {', '.join(FORMATS)}")


def load_instance(path: Path, fmt: str) -> Instance:
    """An instance from a file, named after the file; OSError if it cannot be read."""
    return read_instance(path.read_text(encoding="utf-8"), fmt, name=path.stem)


def read_orlib(text: str, name: str = "instance") -> Instance:
    """An instance from OR-Library text: header `n m`, then `machine duration` pairs per job."""
    lines = _content_lines(text)
    if not lines:
        raise ValueError(
            "the file is empty; an OR-Library instance starts with 'n_jobs n_machines'"
        )
    header_line, header = lines[0]
    if len(header) != 2:
        raise ValueError(
            f"line {header_line}: the header must be two numbers 'n_jobs n_machines', "
            f"found {len(header)} value(s)"
        )
    n_jobs, n_machines = _counts(header_line, _ints(header_line, header))
    rows = lines[1:]
    if len(rows) < n_jobs:
        raise ValueError(
            f"the header promises {n_jobs} job lines, the file has {len(rows)}; "
            "add the missing jobs or correct the header"
        )
    if len(rows) > n_jobs:
        raise ValueError(
            f"line {rows[n_jobs][0]}: unexpected content after the {n_jobs} job lines the header "
            "announces"
        )
    jobs = []
    for position, (number, tokens) in enumerate(rows):
        values = _ints(number, tokens)
        if len(values) != 2 * n_machines:
            raise ValueError(
                f"line {number}: expected {2 * n_machines} numbers ('machine duration' pairs for "
                f"{n_machines} machines), found {len(values)}"
            )
        route = []
        for machine, duration in zip(values[::2], values[1::2], strict=True):
            _check_step(number, machine, duration, first=0, last=n_machines - 1)
            route.append((str(machine), duration))
        jobs.append(Job.from_route(str(position), route))
    return Instance(tuple(jobs), tuple(str(m) for m in range(n_machines)), name=name)


def read_taillard(text: str, name: str = "instance") -> Instance:
    """An instance from Taillard text: header, `Times` matrix, `Machines` matrix (1-based)."""
    lines = _content_lines(text)
    if lines and not _is_numeric(lines[0][1]) and not _is_label(lines[0][1]):
        lines = lines[1:]  # "Nb of jobs, Nb of Machines, Time seed, ..."
    if not lines:
        raise ValueError("no header: a Taillard instance needs a line 'n_jobs n_machines ...'")
    header_line, header = lines[0]
    if len(header) < 2 or not _is_numeric(header):
        raise ValueError(
            f"line {header_line}: expected the header 'n_jobs n_machines' (seeds and bounds may "
            "follow)"
        )
    n_jobs, n_machines = _counts(header_line, _ints(header_line, header)[:2])
    rest = lines[1:]
    times, rest = _matrix(rest, "times", n_jobs, n_machines)
    machines, rest = _matrix(rest, "machines", n_jobs, n_machines)
    if rest:
        raise ValueError(f"line {rest[0][0]}: unexpected content after the Machines matrix")
    jobs = []
    for position, (time_row, machine_row) in enumerate(zip(times, machines, strict=True)):
        route = []
        for (time_line, duration), (machine_line, machine) in zip(
            time_row, machine_row, strict=True
        ):
            if not 1 <= machine <= n_machines:
                raise ValueError(
                    f"line {machine_line}: machine {machine} is outside 1..{n_machines} (Taillard "
                    "numbers machines from 1; for files numbered from 0 use the orlib format)"
                )
            _check_step(time_line, machine - 1, duration, first=0, last=n_machines - 1)
            route.append((str(machine - 1), duration))
        jobs.append(Job.from_route(str(position), route))
    return Instance(tuple(jobs), tuple(str(m) for m in range(n_machines)), name=name)


class _JsonOperation(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    machine: str = Field(min_length=1)
    duration: int = Field(ge=1)


class _JsonJob(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: str = Field(min_length=1)
    operations: list[_JsonOperation] = Field(min_length=1)
    due: int | None = None
    weight: int = Field(default=1, ge=0)
    release: int = Field(default=0, ge=0)


class _JsonInstance(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: str | None = None
    machines: list[str] | None = None
    jobs: list[_JsonJob] = Field(min_length=1)
    setup: dict[str, dict[str, dict[str, int]]] = Field(default_factory=dict)


def read_json(text: str, name: str = "instance") -> Instance:
    """An instance from this platform's JSON format (see the module docstring)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"line {err.lineno}: not valid JSON ({err.msg})") from err
    try:
        data = _JsonInstance.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        path = ".".join(str(part) for part in first["loc"]) or "the document"
        more = f" (and {err.error_count() - 1} more problem(s))" if err.error_count() > 1 else ""
        raise ValueError(f"{path}: {first['msg']}{more}") from err
    used = [op.machine for job in data.jobs for op in job.operations]
    machines = data.machines if data.machines is not None else list(dict.fromkeys(used))
    jobs = tuple(
        Job.from_route(
            job.name,
            [(op.machine, op.duration) for op in job.operations],
            due=job.due,
            weight=job.weight,
            release=job.release,
        )
        for job in data.jobs
    )
    return Instance(jobs, tuple(machines), setup=data.setup, name=data.name or name)


def to_json(instance: Instance) -> str:
    """The instance in this platform's JSON format (read_json reads it back unchanged)."""
    jobs = []
    for job in instance.jobs:
        entry: dict[str, object] = {"name": job.name}
        if job.due is not None:
            entry["due"] = job.due
        entry["weight"] = job.weight
        entry["release"] = job.release
        entry["operations"] = [
            {"machine": op.machine, "duration": op.duration} for op in job.operations
        ]
        jobs.append(entry)
    document = {
        "name": instance.name,
        "machines": list(instance.machines),
        "jobs": jobs,
        "setup": {
            m: {f: dict(row) for f, row in rows.items()} for m, rows in instance.setup.items()
        },
    }
    return json.dumps(document, indent=2)


def _content_lines(text: str) -> list[Line]:
    """Non-blank lines that are not `#` comments, with their 1-based numbers and tokens."""
    lines: list[Line] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            lines.append((number, stripped.split()))
    return lines


def _matrix(
    lines: list[Line], label: str, n_rows: int, n_columns: int
) -> tuple[list[list[tuple[int, int]]], list[Line]]:
    """An optionally labelled matrix of whole numbers, each with its line number; and the rest."""
    if lines and _is_label(lines[0][1]):
        number, tokens = lines[0]
        if tokens[0].lower() != label:
            raise ValueError(
                f"line {number}: expected the {label.title()} matrix, found {tokens[0]!r}"
            )
        lines = lines[1:]
    if len(lines) < n_rows:
        where = f"after line {lines[-1][0]}" if lines else "at the end of the file"
        raise ValueError(
            f"the {label.title()} matrix needs {n_rows} rows, the file ends {where} with "
            f"{len(lines)}; add the missing rows or correct the header"
        )
    rows: list[list[tuple[int, int]]] = []
    for number, tokens in lines[:n_rows]:
        if _is_label(tokens):
            raise ValueError(
                f"line {number}: the {label.title()} matrix needs {n_rows} rows, found "
                f"{tokens[0]!r} after {len(rows)}"
            )
        values = _ints(number, tokens)
        if len(values) != n_columns:
            raise ValueError(
                f"line {number}: a {label.title()} row needs {n_columns} numbers, "
                f"found {len(values)}"
            )
        rows.append([(number, value) for value in values])
    return rows, lines[n_rows:]


def _counts(number: int, header: list[int]) -> tuple[int, int]:
    """The job and machine counts of a header line, both at least 1."""
    n_jobs, n_machines = header
    if n_jobs < 1 or n_machines < 1:
        raise ValueError(
            f"line {number}: need at least one job and one machine, the header says "
            f"{n_jobs} job(s) and {n_machines} machine(s)"
        )
    return n_jobs, n_machines


def _check_step(number: int, machine: int, duration: int, *, first: int, last: int) -> None:
    """Raise ValueError naming the line if a machine number or duration is out of range."""
    if not first <= machine <= last:
        raise ValueError(f"line {number}: machine {machine} is outside {first}..{last}")
    if duration < 1:
        raise ValueError(
            f"line {number}: duration {duration} is not positive; durations are whole time units, "
            "at least 1"
        )


def _ints(number: int, tokens: list[str]) -> list[int]:
    """The tokens as whole numbers, or ValueError naming the line and the first bad token."""
    values = []
    for token in tokens:
        try:
            values.append(int(token))
        except ValueError:
            raise ValueError(f"line {number}: {token!r} is not a whole number") from None
    return values


def _is_numeric(tokens: list[str]) -> bool:
    """Whether every token is a whole number."""
    return all(token.lstrip("+-").isdigit() for token in tokens)


def _is_label(tokens: list[str]) -> bool:
    """Whether a line is a `Times` or `Machines` matrix label."""
    return len(tokens) == 1 and tokens[0].lower() in ("times", "machines")

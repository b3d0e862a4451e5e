"""The simulated line's state on disk, so the plant carries on where it was after a restart.

A real plant does not reset when the platform restarts: its drift, counters and setpoint stay
as they were. The simulator saves the line's state to a JSON file (written atomically) and
resumes from it, so a proposal made before a restart still describes the plant after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from factory_agents.errors import ConfigurationError

STATE_VERSION = 1


class LineState(BaseModel):
    """Everything that makes the line model continue exactly where it stopped."""

    model_config = ConfigDict(frozen=True)

    version: int = STATE_VERSION
    seed: int
    produced: int
    good: int
    scrap: int
    setpoint: float
    energy_kwh: dict[str, float]
    rng_state: tuple[int, tuple[int, ...], float | None]
    clock: int | None = Field(
        None, description="Simulated seconds, running or held (None in older files: produced)"
    )
    holds: tuple[tuple[int, int, str], ...] = Field(
        (), description="Stops asked for and not begun: after units, seconds, machine"
    )
    held: tuple[int, str] | None = Field(
        None, description="The stop under way: seconds left, machine"
    )
    scenarios: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Each scenario's own state, by scenario name"
    )


def save_state(path: Path, state: LineState) -> None:
    """Write `state` to `path` atomically: a crash leaves the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(state.model_dump_json())
    partial.replace(path)


def load_state(path: Path, seed: int) -> LineState | None:
    """The state saved at `path` for `seed`, or None when there is none yet."""
    if not path.exists():
        return None
    try:
        state = LineState.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as err:
        raise ConfigurationError(
            f"the simulated plant's state file {path} cannot be read ({err}); delete it to start"
            " the plant afresh"
        ) from err
    if state.version != STATE_VERSION:
        raise ConfigurationError(
            f"{path} holds plant state version {state.version}, this simulator reads version"
            f" {STATE_VERSION}; delete it to start the plant afresh"
        )
    if state.seed != seed:
        raise ConfigurationError(
            f"{path} holds a plant simulated with seed {state.seed}, not {seed}; use the same"
            " FACTORY_SIM_SEED, or delete the file (and mes.db) for a new plant"
        )
    return state

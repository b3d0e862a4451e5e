"""A machine gone down, from its PackML state tag: when it went down and when it is due back.

The current state must be Good and fresh, and one of the down states. When it went down: the
first sample of the latest run of down samples in the state's history, if a Good sample of
another state precedes it (the change was seen); else the start of an open unplanned downtime
event of the machine in the MES; else it is not a fresh breakdown. When it is due back: the
repair tag (its source time + the seconds it gives), else an open MES downtime event's expected
end, else the configured repair time from when it went down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from factory_agents.agent import AgentInput
from factory_agents.catalog.scheduling.rescheduling_config import (
    PACKML_STATES,
    ReschedulingConfig,
)
from factory_agents.isa95 import DowntimeEvent
from factory_agents.plant import Quality, Sample


@dataclass(frozen=True)
class MachineDown:
    """A machine down since `since`, expected back at `up_at`; where each time came from."""

    machine: str
    state: str
    since: datetime
    up_at: datetime
    since_from: str
    up_from: str


@dataclass(frozen=True)
class NotUsable:
    """A machine whose state cannot be trusted now: a skip reason and a message."""

    reason: str
    message: str


def machine_down(
    data: AgentInput, machine: str, c: ReschedulingConfig
) -> MachineDown | NotUsable | None:
    """The machine's breakdown, None if it is not down, or why its state cannot be used."""
    tag = c.state_tags[machine]
    sample = data.current.get(tag)
    if sample is None:
        return NotUsable("no_state", f"no state sample of {machine} ({tag})")
    if sample.quality is not Quality.GOOD:
        return NotUsable("bad_state", f"the state of {machine} is {sample.quality.value}")
    if sample.age(data.now) > timedelta(seconds=c.state_stale_after_seconds):
        return NotUsable(
            "stale_state",
            f"the state of {machine} is {sample.age(data.now).total_seconds():.0f} s old,"
            f" over {c.state_stale_after_seconds:g} s",
        )
    if int(sample.value) not in c.down_states:
        return None
    state = PACKML_STATES.get(int(sample.value), f"state {sample.value:g}")
    since, since_from = _since(data, machine, sample, c)
    if since is None:
        return NotUsable(
            "no_state_change",
            f"{machine} is {state} but no change to it shows in the last"
            f" {c.history_seconds:g} s nor an open downtime event in the MES: not a new breakdown",
        )
    up_at, up_from = _up_at(data, machine, since, c)
    return MachineDown(machine, state, since, up_at, since_from, up_from)


def _since(
    data: AgentInput, machine: str, current: Sample, c: ReschedulingConfig
) -> tuple[datetime | None, str]:
    """When the machine went down, and how that is known."""
    samples = sorted(
        [s for s in data.history.get(current.tag, []) if s.quality is Quality.GOOD] + [current],
        key=lambda s: s.source_time,
    )
    first_down: Sample | None = None
    for sample in reversed(samples):
        if int(sample.value) not in c.down_states:
            if first_down is not None:
                return first_down.source_time, "state tag change"
            break
        first_down = sample
    for event in _open_events(data, machine):
        return event.started_at, f"MES downtime event {event.id} ({event.reason_code})"
    return None, ""


def _up_at(
    data: AgentInput, machine: str, since: datetime, c: ReschedulingConfig
) -> tuple[datetime, str]:
    """When the machine is expected back, and where that estimate comes from."""
    estimate = data.current.get(c.repair_tags.get(machine, ""))
    if (
        estimate is not None
        and estimate.quality is Quality.GOOD
        and estimate.source_time >= since
        and estimate.value > 0
    ):
        return estimate.source_time + timedelta(seconds=estimate.value), "repair estimate tag"
    for event in _open_events(data, machine):
        if event.ended_at is not None and event.ended_at > data.now:
            return event.ended_at, f"MES downtime event {event.id} expected end"
    return since + timedelta(seconds=c.default_repair_seconds), "configured repair time"


def _open_events(data: AgentInput, machine: str) -> list[DowntimeEvent]:
    """The machine's unplanned downtime events under way now, latest first."""
    return sorted(
        (
            e
            for e in data.mes.downtime
            if e.equipment_id == machine
            and not e.planned
            and e.started_at <= data.now
            and (e.ended_at is None or e.ended_at > data.now)
        ),
        key=lambda e: e.started_at,
        reverse=True,
    )

"""What the condition-monitoring agent reads, put in shape: feature windows and the MES context.

Feature windows: a vibration sensor publishes its features (one tag each) for every window,
all stamped with the window's end. The values sharing a source time make one window; a
window with a feature that is not Good, missing, or stamped in the future is refused with
the reason (features.RefusedWindow), never patched.

MES context: the open maintenance orders of the equipment, its last work (a stop with one of
the work reason codes: planned maintenance or a repair, after which its condition is new),
and the next planned stop of the line (a maintenance order of the line with status
"planned", due by the stop's start).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from factory_agents.catalog.maintenance.features import RefusedWindow
from factory_agents.isa95 import DowntimeEvent, MaintenanceOrder, MesData
from factory_agents.plant import Quality, Sample
from factory_agents.screening import FUTURE_TOLERANCE

OPEN_ORDER_STATUSES = ("open", "planned", "in_progress")
PLANNED_STOP_STATUS = "planned"


@dataclass(frozen=True, slots=True)
class FeatureWindow:
    """One window's features (name → value), at the window's end."""

    at: datetime
    values: dict[str, float]


@dataclass(frozen=True, slots=True)
class Windows:
    """The complete windows in time order, and those refused."""

    accepted: list[FeatureWindow]
    refused: list[RefusedWindow]


def feature_windows(
    history: Mapping[str, Sequence[Sample]], tags: Mapping[str, str], now: datetime
) -> Windows:
    """Windows from feature histories (tags: feature name → tag), grouped by source time."""
    by_time: dict[datetime, dict[str, Sample]] = defaultdict(dict)
    for name, tag in tags.items():
        for sample in history.get(tag, ()):
            by_time[sample.source_time][name] = sample
    accepted: list[FeatureWindow] = []
    refused: list[RefusedWindow] = []
    for at in sorted(by_time):
        found = by_time[at]
        reason = _refusal(found, tags, at, now)
        if reason is not None:
            refused.append(RefusedWindow(at, at, *reason))
        else:
            accepted.append(FeatureWindow(at, {n: s.value for n, s in found.items()}))
    return Windows(accepted, refused)


def _refusal(
    found: Mapping[str, Sample], tags: Mapping[str, str], at: datetime, now: datetime
) -> tuple[str, str] | None:
    """Why a window cannot be used (reason, detail), or None when it can."""
    if at > now + FUTURE_TOLERANCE:
        return "future_timestamp", f"stamped {at:%F %T} UTC, after now ({now:%T})"
    not_good = sorted(f"{n} {s.quality}" for n, s in found.items() if s.quality is not Quality.GOOD)
    if not_good:
        return "not_good", f"features not Good: {', '.join(not_good)}"
    missing = sorted(set(tags) - set(found))
    if missing:
        return "incomplete", f"no {', '.join(missing)} at {at:%T} UTC"
    return None


def open_orders(mes: MesData, equipment_id: str) -> list[MaintenanceOrder]:
    """The equipment's maintenance orders still to be done, oldest first."""
    return sorted(
        (
            o
            for o in mes.maintenance_orders
            if o.equipment_id == equipment_id and o.status in OPEN_ORDER_STATUSES
        ),
        key=lambda o: o.created_at,
    )


def work_stops(mes: MesData, equipment_id: str, codes: Sequence[str]) -> list[DowntimeEvent]:
    """The equipment's stops for work on it (maintenance, repairs), oldest first."""
    return sorted(
        (e for e in mes.downtime if e.equipment_id == equipment_id and e.reason_code in codes),
        key=lambda e: e.started_at,
    )


def next_planned_stop(mes: MesData, line_equipment: str, now: datetime) -> MaintenanceOrder | None:
    """The line's next planned stop: its earliest order with status planned, due after now."""
    stops = [
        o
        for o in mes.maintenance_orders
        if o.equipment_id == line_equipment and o.status == PLANNED_STOP_STATUS and o.due_by > now
    ]
    return min(stops, key=lambda o: o.due_by, default=None)


def stop_hours(event: DowntimeEvent, start: datetime, end: datetime) -> float:
    """Hours of a stop inside [start, end] (a stop still open runs to `end`)."""
    stop_end = event.ended_at if event.ended_at is not None else end
    seconds = (min(stop_end, end) - max(event.started_at, start)).total_seconds()
    return max(seconds, 0.0) / 3600

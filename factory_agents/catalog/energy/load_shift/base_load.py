"""The base load per time-of-day slot, from the site energy meter's cumulative register."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from factory_agents.catalog.energy.tariff import SlotGrid
from factory_agents.plant import Quality, Sample


@dataclass(frozen=True, slots=True)
class DailyLoadProfile:
    """Mean power per time-of-day slot (kW), local time, from an energy meter's history."""

    slot_minutes: int
    timezone: str
    kw: tuple[float, ...]
    hours_observed: tuple[float, ...]

    def on(self, grid: SlotGrid) -> tuple[float, ...]:
        """The profile's power for every slot of the grid, by local time of day."""
        if grid.slot_minutes != self.slot_minutes:
            raise ValueError(
                f"the profile has {self.slot_minutes}-min slots, the grid {grid.slot_minutes}-min"
            )
        out = []
        zone = ZoneInfo(self.timezone)
        for i in range(grid.slots):
            local = grid.slot_start(i).astimezone(zone)
            minute = local.hour * 60 + local.minute
            if minute % self.slot_minutes or local.second or local.microsecond:
                raise ValueError(
                    f"grid slot {i} starts at {local:%H:%M:%S} local time, not on a profile slot"
                    f" boundary; start the grid on a multiple of {self.slot_minutes} min"
                )
            out.append(self.kw[minute // self.slot_minutes])
        return tuple(out)


def base_load_profile(
    register: Sequence[Sample],
    *,
    slot_minutes: int,
    timezone: str,
    max_gap: timedelta = timedelta(minutes=30),
    min_hours_per_slot: float | None = None,
) -> DailyLoadProfile:
    """Mean non-deferrable power per time-of-day slot from a cumulative energy register (kWh).

    The energy between two consecutive Good readings is spread evenly over the time between
    them and shared out among the time-of-day slots it spans; a slot's power is its energy
    over the hours observed. Steps longer than `max_gap` and counter decreases (resets) are
    left out. Every slot must be observed at least `min_hours_per_slot` (default: one slot).
    """
    if not 0 < slot_minutes <= 1440 or 1440 % slot_minutes:
        raise ValueError(f"slot_minutes must divide the day, got {slot_minutes}")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {timezone!r}; use an IANA name") from err
    slots_per_day = 1440 // slot_minutes
    slot_length = timedelta(minutes=slot_minutes)
    energy = [0.0] * slots_per_day
    hours = [0.0] * slots_per_day
    good = sorted((s for s in register if s.quality is Quality.GOOD), key=lambda s: s.source_time)
    for before, after in itertools.pairwise(good):
        span = after.source_time - before.source_time
        delta = after.value - before.value
        if span <= timedelta(0) or span > max_gap or delta < 0:
            continue
        kw = delta / (span.total_seconds() / 3600)
        cursor = before.source_time
        while cursor < after.source_time:
            local = cursor.astimezone(zone)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            slot = (local - midnight) // slot_length
            to_boundary = midnight + (slot + 1) * slot_length - local
            step_end = min(after.source_time, cursor + to_boundary)
            step_hours = (step_end - cursor).total_seconds() / 3600
            energy[slot] += kw * step_hours
            hours[slot] += step_hours
            cursor = step_end
    needed = slot_minutes / 60 if min_hours_per_slot is None else min_hours_per_slot
    thin = [i for i in range(slots_per_day) if hours[i] < needed - 1e-9]
    if thin:
        first = thin[0] * slot_minutes
        raise ValueError(
            f"{len(thin)} time-of-day slots have less than {needed:g} h of usable meter data,"
            f" the first at {first // 60:02d}:{first % 60:02d} {timezone}; give a longer"
            " history or fewer gaps"
        )
    return DailyLoadProfile(
        slot_minutes=slot_minutes,
        timezone=timezone,
        kw=tuple(e / h for e, h in zip(energy, hours, strict=True)),
        hours_observed=tuple(hours),
    )

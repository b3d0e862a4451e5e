"""Crafted condition-monitoring data: a vibration sensor's feature windows and the MES around it."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from factory_agents.agent import AgentInput
from factory_agents.catalog.maintenance.condition_config import ConditionConfig
from factory_agents.isa95 import DowntimeEvent, MaintenanceOrder, MesData
from factory_agents.plant import Quality, Sample
from factory_agents.site import CAPPER_EQUIPMENT, LINE

from .conftest import NOW

CFG = ConditionConfig()
WINDOW_SECONDS = 5.0
HEALTHY_RMS = 1.8
GROWTH_WINDOWS = 400
"""Windows from the onset of wear until the noise-free v-RMS reaches the 7.1 mm/s threshold."""


def features(rng: random.Random, severity: float) -> dict[str, float]:
    """One window's features at a defect severity (0 healthy), with the sensor's noise."""
    return {
        "v_rms": HEALTHY_RMS * (1 + severity) * math.exp(rng.gauss(0.0, 0.04)),
        "kurtosis": 3.0 + 1.5 * severity + rng.gauss(0.0, 0.10),
        "crest_factor": 3.5 + 0.6 * severity + rng.gauss(0.0, 0.12),
        "bearing_temperature": 41.0 + 2.5 * severity + rng.gauss(0.0, 0.3),
    }


def severity(k: int, onset: int | None) -> float:
    """Severity at window k for wear beginning at window `onset` (None: healthy throughout)."""
    if onset is None or k < onset:
        return 0.0
    return math.exp(math.log(7.1 / HEALTHY_RMS) / GROWTH_WINDOWS * (k - onset)) - 1.0


def window_times(
    n: int, end: datetime, *, gaps: Iterable[tuple[int, float]] = ()
) -> list[datetime]:
    """End stamps of n windows 5 s apart, ending at `end`; (k, s): the line stood s seconds
    before window k."""
    pauses = dict(gaps)
    offsets = [0.0]
    for k in range(1, n):
        offsets.append(offsets[-1] + WINDOW_SECONDS + pauses.get(k, 0.0))
    return [end - timedelta(seconds=offsets[-1] - o) for o in offsets]


def history(
    *,
    n: int = 260,
    onset: int | None = None,
    seed: int = 1,
    age: float = 1.0,
    gaps: Iterable[tuple[int, float]] = (),
    quality: dict[int, Quality] | None = None,
) -> dict[str, list[Sample]]:
    """The four feature tags for n windows, the newest `age` seconds before NOW."""
    rng = random.Random(seed)
    times = window_times(n, NOW - timedelta(seconds=age), gaps=gaps)
    series: dict[str, list[Sample]] = {tag: [] for tag in CFG.features.values()}
    for k, at in enumerate(times):
        values = features(rng, severity(k, onset))
        for name, tag in CFG.features.items():
            flag = (quality or {}).get(k, Quality.GOOD) if name == "v_rms" else Quality.GOOD
            series[tag].append(Sample(tag=tag, value=values[name], source_time=at, quality=flag))
    return series


def planned_stop(in_minutes: float, *, order: str = "PS-1") -> MaintenanceOrder:
    """The line's next planned stop, as the plant announces it in the MES."""
    return MaintenanceOrder(
        id=order,
        equipment_id=LINE,
        description="Planned stop of line1",
        due_by=NOW + timedelta(minutes=in_minutes),
        priority=3,
        status="planned",
        created_at=NOW - timedelta(hours=1),
    )


def capper_order(status: str = "open") -> MaintenanceOrder:
    """A maintenance order for the capper."""
    return MaintenanceOrder(
        id="MWO-00001",
        equipment_id=CAPPER_EQUIPMENT,
        description="Replace the bearing",
        due_by=NOW + timedelta(minutes=30),
        status=status,
        created_at=NOW - timedelta(minutes=5),
    )


def stop(
    code: str, start: datetime, end: datetime | None, *, planned: bool, number: int = 1
) -> DowntimeEvent:
    """A stop of the capper."""
    return DowntimeEvent(
        id=number,
        equipment_id=CAPPER_EQUIPMENT,
        started_at=start,
        ended_at=end,
        reason_code=code,
        reason=code,
        planned=planned,
    )


def plant(
    series: dict[str, list[Sample]],
    *,
    orders: Iterable[MaintenanceOrder] = (planned_stop(30),),
    downtime: Iterable[DowntimeEvent] = (),
    now: datetime = NOW,
) -> AgentInput:
    """What the agent reads: the feature history and the MES."""
    return AgentInput(
        now=now,
        history=series,
        mes=MesData(maintenance_orders=tuple(orders), downtime=tuple(downtime)),
    )

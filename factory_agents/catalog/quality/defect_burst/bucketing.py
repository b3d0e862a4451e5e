"""Grouping monitored results into buckets: by lot (or work order without a lot) or time slot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from factory_agents.catalog.quality.defect_burst.records import BucketCount, Inspection

Bucketing = Literal["lot", "time"]


def bucket_keys(
    monitored: Sequence[Inspection],
    bucketing: Bucketing,
    origin: datetime,
    width: timedelta | None,
) -> list[str]:
    """The bucket of each result: its lot (or work order without a lot), or its time slot."""
    if bucketing == "lot":
        return [i.lot if i.lot is not None else _no_lot_key(i.work_order) for i in monitored]
    assert width is not None
    return [f"{origin + ((i.at - origin) // width) * width:%Y-%m-%d %H:%M}" for i in monitored]


def counts(monitored: Sequence[Inspection], keys: Sequence[str]) -> list[BucketCount]:
    """Counts, first and last result time, lots and work orders per bucket, by first result."""
    groups: dict[str, list[Inspection]] = {}
    for inspection, key in zip(monitored, keys, strict=True):
        groups.setdefault(key, []).append(inspection)
    ordered = sorted(groups.items(), key=lambda kv: (min(i.at for i in kv[1]), kv[0]))
    return [
        BucketCount(
            key=key,
            start=min(i.at for i in group),
            end=max(i.at for i in group),
            inspected=len(group),
            defective=sum(not i.passed for i in group),
            lots=tuple(sorted({i.lot for i in group if i.lot is not None})),
            work_orders=tuple(sorted({i.work_order for i in group})),
        )
        for key, group in ordered
    ]


def _no_lot_key(work_order: str) -> str:
    """Bucket key of results that carry no lot number."""
    return f"{work_order} (no lot)"

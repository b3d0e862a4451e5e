"""The peer the conformance suite checks the CSV historian against: an export with known data."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.testing import ConformancePeer, TagData

T0 = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)
TEMPERATURE = "Line1.Oven.Temperature"
POWER = "Line1.Oven.Power"


def write_export(path: Path) -> dict[str, float]:
    """An hour of minute values of two tags, rows shuffled as exports sometimes are.

    Returns the newest value of each tag.
    """
    rows = [(TEMPERATURE, T0 + timedelta(minutes=m), 180 + m / 10, "good") for m in range(60)] + [
        (POWER, T0 + timedelta(minutes=m), 40 + m % 3, "G") for m in range(0, 60, 5)
    ]
    random.Random(4).shuffle(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tag", "timestamp", "value", "quality"])
        for tag, when, value, quality in rows:
            writer.writerow([tag, when.isoformat().replace("+00:00", "Z"), value, quality])
    return {TEMPERATURE: 180 + 59 / 10, POWER: 40 + 55 % 3}


@pytest.fixture
def conformance_peer(tmp_path: Path) -> ConformancePeer:
    """The export file (only its path is run-time config) and what the suite may rely on."""
    export = tmp_path / "export.csv"
    newest = write_export(export)
    return ConformancePeer(
        config={"path": str(export)},
        tags=TagData(
            tags=(TEMPERATURE, POWER),
            values=newest,
            history_tag=TEMPERATURE,
            history_start=T0 + timedelta(minutes=10),
            history_end=T0 + timedelta(minutes=40),
        ),
    )

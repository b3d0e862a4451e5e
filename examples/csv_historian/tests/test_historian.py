"""The CSV historian's own behaviour beyond the conformance suite: codes, zones, bad rows."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factory_agents_csv_historian import SPEC, CsvHistorian, CsvHistorianConfig

from factory_agents.errors import ConfigurationError, ConnectorError
from factory_agents.plant import Quality

T0 = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)


def historian(path: Path, **settings: object) -> CsvHistorian:
    """The connector built from its spec, as the platform builds it."""
    built = SPEC.create({"path": str(path), **settings})
    assert isinstance(built, CsvHistorian)
    return built


async def test_quality_codes_naive_times_and_non_numbers(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "TagName;Time;Val;Q\n"
        "a;2025-01-06T07:00:00;1.5;U\n"  # naive: Europe/Berlin, so 06:00 UTC
        "b;2025-01-06T06:00:00+00:00;n/a;good\n"
        "c;2025-01-06T06:00:00+00:00;3;weird\n",
        encoding="utf-8",
    )
    mes = historian(
        export, delimiter=";", tag_column="TagName", time_column="Time", value_column="Val",
        quality_column="Q", timezone="Europe/Berlin",
    )  # fmt: skip
    a, b, c = await mes.read(["a", "b", "c"])
    assert (a.value, a.quality, a.source_time) == (1.5, Quality.UNCERTAIN, T0)
    assert math.isnan(b.value) and b.quality is Quality.BAD
    assert c.quality is Quality.BAD  # an unknown quality code is not trusted


async def test_the_export_is_read_again_when_it_changes(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("tag,timestamp,value,quality\nx,2025-01-06T06:00:00Z,1,good\n")
    mes = historian(export)
    assert (await mes.read(["x"]))[0].value == 1
    export.write_text("tag,timestamp,value,quality\nx,2025-01-06T06:00:00Z,1,good\n"
                      "x,2025-01-06T06:01:00Z,22,good\n")  # fmt: skip
    assert (await mes.read(["x"]))[0].value == 22
    history = await mes.history("x", T0, T0 + timedelta(minutes=1))
    assert [s.value for s in history] == [1, 22]


async def test_broken_exports_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="cannot read the historian export"):
        await historian(tmp_path / "absent.csv").read(["x"])
    wrong_headers = tmp_path / "headers.csv"
    wrong_headers.write_text("name,time,value\nx,2025-01-06T06:00:00Z,1\n")
    with pytest.raises(ConfigurationError, match="has no column tag, timestamp, quality"):
        await historian(wrong_headers).read(["x"])
    bad_time = tmp_path / "time.csv"
    bad_time.write_text("tag,timestamp,value,quality\nx,yesterday,1,good\n")
    with pytest.raises(ConnectorError, match="line 2: 'yesterday' is not an ISO 8601 time"):
        await historian(bad_time).read(["x"])


def test_the_config_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="unknown time zone"):
        SPEC.create({"path": "x.csv", "timezone": "Mars/Olympus"})
    with pytest.raises(ConfigurationError, match="path"):
        SPEC.create({})
    assert CsvHistorianConfig(path=Path("x.csv"), quality_codes={"OK ": "good"}).quality_codes == {
        "ok": Quality.GOOD
    }

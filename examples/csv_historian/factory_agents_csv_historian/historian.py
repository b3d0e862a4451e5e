"""A TagSource over a CSV historian export: one row per value, with tag, time, value, quality.

The export is re-read whenever the file changes (exports are usually replaced on a schedule),
in a worker thread so the event loop never waits on the disk.

Example export::

    tag,timestamp,value,quality
    Line1.Oven.Temperature,2025-01-06T06:00:00Z,182.4,good
    Line1.Oven.Temperature,2025-01-06T06:01:00Z,182.9,good
    Line1.Oven.Power,2025-01-06T06:00:00Z,41.2,uncertain
"""

from __future__ import annotations

import asyncio
import csv
import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from factory_agents.errors import ConfigurationError, ConnectorError
from factory_agents.plant import Quality, Sample

DEFAULT_QUALITY_CODES = {
    "good": "good", "g": "good", "192": "good", "ok": "good",
    "uncertain": "uncertain", "u": "uncertain", "64": "uncertain",
    "bad": "bad", "b": "bad", "0": "bad",
}  # fmt: skip
"""Quality texts of common exports (including OPC DA codes 192/64/0), case-insensitive."""


class CsvHistorianConfig(BaseModel):
    """Where the export is and how it is laid out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path = Field(description="The CSV export file")
    delimiter: str = Field(",", min_length=1, max_length=1)
    tag_column: str = "tag"
    time_column: str = "timestamp"
    value_column: str = "value"
    quality_column: str | None = Field("quality", description="None: every value is GOOD")
    timezone: str = Field("UTC", description="Zone of timestamps written without an offset")
    quality_codes: dict[str, Quality] = Field(
        default_factory=lambda: {code: Quality(q) for code, q in DEFAULT_QUALITY_CODES.items()}
    )

    @field_validator("quality_codes")
    @classmethod
    def _lower_case_codes(cls, value: dict[str, Quality]) -> dict[str, Quality]:
        return {code.strip().lower(): quality for code, quality in value.items()}

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like UTC") from err
        return value


@dataclass(frozen=True)
class _Export:
    """One parsed version of the file: samples per tag, sorted by source time."""

    stamp: tuple[int, int]
    samples: dict[str, list[Sample]]
    times: dict[str, list[datetime]]


class CsvHistorian:
    """A CSV historian export as a TagSource.

    Unknown tags read as BAD (value NaN); values that are not numbers are BAD too; a row
    whose time cannot be read makes the read fail with a ConnectorError naming the line.
    """

    def __init__(self, config: CsvHistorianConfig) -> None:
        self.config = config
        self._zone = ZoneInfo(config.timezone)
        self._export: _Export | None = None

    async def read(self, node_ids: Sequence[str]) -> list[Sample]:
        """The newest sample of each tag, in the order asked."""
        export = await self._load()
        now = datetime.now(UTC)
        samples: list[Sample] = []
        for tag in node_ids:
            found = export.samples.get(tag)
            if found:
                samples.append(found[-1])
            else:
                samples.append(
                    Sample(tag=tag, value=math.nan, source_time=now, quality=Quality.BAD)
                )
        return samples

    async def history(self, node_id: str, start: datetime, end: datetime) -> list[Sample]:
        """The samples of one tag in [start, end], sorted by source time; none if unknown."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("history times must be timezone-aware (UTC)")
        export = await self._load()
        times = export.times.get(node_id, [])
        first, last = bisect_left(times, start), bisect_right(times, end)
        return export.samples.get(node_id, [])[first:last]

    async def _load(self) -> _Export:
        """The parsed export, re-read when the file changed."""
        path = self.config.path
        try:
            stat = await asyncio.to_thread(path.stat)
        except OSError as err:
            raise ConnectorError(
                f"cannot read the historian export {path}: {err.strerror or err}. Check the path;"
                " while the export is being replaced, retrying helps"
            ) from err
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._export is None or self._export.stamp != stamp:
            self._export = await asyncio.to_thread(self._parse, stamp)
        return self._export

    def _parse(self, stamp: tuple[int, int]) -> _Export:
        config = self.config
        samples: dict[str, list[Sample]] = {}
        try:
            with config.path.open(newline="", encoding="utf-8-sig") as handle:
                rows = csv.DictReader(handle, delimiter=config.delimiter)
                self._check_columns(rows.fieldnames or [])
                for line, row in enumerate(rows, start=2):
                    sample = self._sample(row, line)
                    samples.setdefault(sample.tag, []).append(sample)
        except OSError as err:
            raise ConnectorError(f"cannot read the historian export {config.path}: {err}") from err
        except (csv.Error, UnicodeDecodeError) as err:
            raise ConnectorError(f"{config.path} is not a readable CSV export: {err}") from err
        for tag_samples in samples.values():
            tag_samples.sort(key=lambda s: s.source_time)
        times = {tag: [s.source_time for s in found] for tag, found in samples.items()}
        return _Export(stamp, samples, times)

    def _check_columns(self, found: Sequence[str]) -> None:
        config = self.config
        wanted = [config.tag_column, config.time_column, config.value_column]
        if config.quality_column is not None:
            wanted.append(config.quality_column)
        missing = [column for column in wanted if column not in found]
        if missing:
            raise ConfigurationError(
                f"{config.path} has no column {', '.join(missing)} (it has {', '.join(found)});"
                " set tag_column, time_column, value_column and quality_column to its headers"
            )

    def _sample(self, row: dict[str, str], line: int) -> Sample:
        config = self.config
        tag = (row.get(config.tag_column) or "").strip()
        text = (row.get(config.time_column) or "").strip()
        try:
            when = datetime.fromisoformat(text)
        except ValueError as err:
            raise ConnectorError(
                f"{config.path} line {line}: {text!r} is not an ISO 8601 time; fix the export"
            ) from err
        if when.tzinfo is None:
            when = when.replace(tzinfo=self._zone)
        quality = Quality.GOOD
        if config.quality_column is not None:
            code = (row.get(config.quality_column) or "").strip().lower()
            quality = config.quality_codes.get(code, Quality.BAD)
        try:
            value = float((row.get(config.value_column) or "").strip())
        except ValueError:
            value, quality = math.nan, Quality.BAD
        if not tag:
            raise ConnectorError(f"{config.path} line {line}: the row names no tag")
        return Sample(tag=tag, value=value, source_time=when.astimezone(UTC), quality=quality)

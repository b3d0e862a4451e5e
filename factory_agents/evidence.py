"""What a proposal shows as its evidence: plain data for one chart, told apart by `kind`.

Agents fill these with numbers; the board draws them (dashboards/charts.py). Keeping them
plain data keeps agents free of plotting libraries and lets the CLI and the language layer
cite the same numbers the chart shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ControlChart(BaseModel):
    """A characteristic over time with its EWMA, limits and the points that signalled."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["control_chart"] = "control_chart"
    characteristic: str
    unit: str
    times: list[datetime]
    values: list[float]
    ewma: list[float]
    center: float
    sigma: float
    ewma_lcl: float
    ewma_ucl: float
    lsl: float
    usl: float
    signals: dict[int, list[str]] = Field(default_factory=dict)


class GanttTask(BaseModel):
    """One bar of a Gantt chart: an operation of a job on a resource."""

    model_config = ConfigDict(frozen=True)

    resource: str
    job: str
    label: str
    start: datetime
    end: datetime
    moved: bool = Field(False, description="True when the proposal moves this operation")


class GanttChart(BaseModel):
    """A schedule as proposed, next to the schedule in force (if any)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["gantt"] = "gantt"
    title: str
    proposed: list[GanttTask]
    current: list[GanttTask] = Field(default_factory=list)
    now: datetime | None = None


class Series(BaseModel):
    """One named line of a trend chart."""

    model_config = ConfigDict(frozen=True)

    name: str
    times: list[datetime]
    values: list[float]

    @model_validator(mode="after")
    def _same_length(self) -> Series:
        if len(self.times) != len(self.values):
            raise ValueError(
                f"series {self.name!r}: {len(self.times)} times but {len(self.values)} values"
            )
        return self


class Threshold(BaseModel):
    """A horizontal line on a trend chart (a limit, an alarm level, a failure threshold)."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: float


class Marker(BaseModel):
    """A vertical line on a trend chart (an event: alarm, planned stop, predicted failure)."""

    model_config = ConfigDict(frozen=True)

    name: str
    at: datetime


class TrendChart(BaseModel):
    """Values over time with thresholds and events, e.g. a health indicator and its forecast."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["trend"] = "trend"
    title: str
    unit: str
    series: list[Series]
    thresholds: list[Threshold] = Field(default_factory=list)
    markers: list[Marker] = Field(default_factory=list)


class Bar(BaseModel):
    """One bar: a category and its value (a loss, a stop reason, a cost)."""

    model_config = ConfigDict(frozen=True)

    category: str
    value: float
    group: str = ""


class BarChart(BaseModel):
    """Categories and values, largest first when it is a Pareto of losses or causes."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["bars"] = "bars"
    title: str
    unit: str
    bars: list[Bar]


class Histogram(BaseModel):
    """A characteristic's distribution against its specification (capability)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["histogram"] = "histogram"
    characteristic: str
    unit: str
    values: list[float]
    lsl: float
    usl: float
    target: float | None = None


class Table(BaseModel):
    """Rows of facts with named columns, when a table says it better than a chart."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["table"] = "table"
    title: str
    columns: list[str]
    rows: list[list[str | float | int | None]]

    @model_validator(mode="after")
    def _rows_fit(self) -> Table:
        for number, row in enumerate(self.rows, start=1):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.title!r}: row {number} has {len(row)} cells for"
                    f" {len(self.columns)} columns"
                )
        return self


Evidence = Annotated[
    ControlChart | GanttChart | TrendChart | BarChart | Histogram | Table,
    Field(discriminator="kind"),
]
"""Any evidence a proposal may carry."""

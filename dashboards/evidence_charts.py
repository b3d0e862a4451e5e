"""Altair pictures of a proposal's evidence: Gantt, trend, Pareto bars and capability histogram."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from dashboards.charts import POINT_COLOUR, SIGNAL_COLOUR, SPEC_LIMIT_COLOUR, control_chart
from factory_agents.evidence import (
    BarChart,
    ControlChart,
    Evidence,
    GanttChart,
    GanttTask,
    Histogram,
    Table,
    TrendChart,
)

MOVED_COLOUR = "#ff7f0e"
THRESHOLD_COLOUR = "#d62728"
MARKER_COLOUR = "#7f7f7f"


def evidence_chart(evidence: Evidence) -> Any:
    """The chart for `evidence`, or a DataFrame when it is a table (st.dataframe shows it)."""
    if isinstance(evidence, ControlChart):
        return control_chart(evidence)
    if isinstance(evidence, GanttChart):
        return gantt(evidence)
    if isinstance(evidence, TrendChart):
        return trend(evidence)
    if isinstance(evidence, BarChart):
        return bars(evidence)
    if isinstance(evidence, Histogram):
        return histogram(evidence)
    return table_frame(evidence)


def gantt_frame(tasks: list[GanttTask], schedule: str) -> pd.DataFrame:
    """One row per bar: resource, job, times, whether the proposal moves it, which schedule."""
    return pd.DataFrame(
        {
            "schedule": [schedule] * len(tasks),
            "resource": [t.resource for t in tasks],
            "job": [t.job for t in tasks],
            "label": [t.label for t in tasks],
            "start": pd.to_datetime([t.start for t in tasks], utc=True),
            "end": pd.to_datetime([t.end for t in tasks], utc=True),
            "moved": [t.moved for t in tasks],
        }
    )


def gantt(chart: GanttChart) -> alt.FacetChart:
    """Bars per resource over time, coloured by job, the proposed schedule above the current."""
    frame = pd.concat(
        [gantt_frame(chart.proposed, "proposed"), gantt_frame(chart.current, "current")],
        ignore_index=True,
    )
    base = (
        alt.Chart(frame)
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("start:T", title="Time (UTC)"),
            x2="end:T",
            y=alt.Y("resource:N", title=None),
            color=alt.Color("job:N", title="Job"),
            stroke=alt.condition("datum.moved", alt.value(MOVED_COLOUR), alt.value(None)),
            strokeWidth=alt.condition("datum.moved", alt.value(2), alt.value(0)),
            tooltip=[
                "job:N",
                "label:N",
                "resource:N",
                alt.Tooltip("start:T", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("end:T", format="%Y-%m-%d %H:%M"),
                "moved:N",
            ],
        )
        .properties(height=120, title=chart.title)
    )
    faceted: alt.FacetChart = base.facet(
        row=alt.Row("schedule:N", title=None, sort=["proposed", "current"])
    )
    return faceted


def trend_frame(chart: TrendChart) -> pd.DataFrame:
    """Long format: one row per point of every series."""
    rows = [
        {"series": series.name, "time": time, "value": value}
        for series in chart.series
        for time, value in zip(series.times, series.values, strict=True)
    ]
    frame = pd.DataFrame(rows, columns=["series", "time", "value"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame


def trend(chart: TrendChart) -> alt.LayerChart:
    """Series as lines, thresholds as dashed horizontal rules, events as vertical rules."""
    lines = (
        alt.Chart(trend_frame(chart))
        .mark_line(point=True)
        .encode(
            x=alt.X("time:T", title="Time (UTC)", axis=alt.Axis(format="%H:%M:%S")),
            y=alt.Y("value:Q", title=f"{chart.title} ({chart.unit})", scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", title="Series"),
            tooltip=["series:N", alt.Tooltip("time:T", format="%Y-%m-%d %H:%M"), "value:Q"],
        )
    )
    layers: list[Any] = [lines]
    if chart.thresholds:
        levels = pd.DataFrame(
            {
                "name": [t.name for t in chart.thresholds],
                "value": [t.value for t in chart.thresholds],
            }
        )
        layers.append(
            alt.Chart(levels)
            .mark_rule(strokeDash=[6, 4], color=THRESHOLD_COLOUR)
            .encode(y="value:Q", tooltip=["name:N", "value:Q"])
        )
    if chart.markers:
        events = pd.DataFrame(
            {
                "name": [m.name for m in chart.markers],
                "at": pd.to_datetime([m.at for m in chart.markers], utc=True),
            }
        )
        layers.append(
            alt.Chart(events)
            .mark_rule(color=MARKER_COLOUR)
            .encode(x="at:T", tooltip=["name:N", alt.Tooltip("at:T", format="%Y-%m-%d %H:%M")])
        )
    layered: alt.LayerChart = alt.LayerChart(layer=layers).properties(height=280)
    return layered


def bars(chart: BarChart) -> alt.Chart:
    """Horizontal bars, largest first (a Pareto when the bars are losses or causes)."""
    frame = pd.DataFrame(
        {
            "category": [b.category for b in chart.bars],
            "value": [b.value for b in chart.bars],
            "group": [b.group for b in chart.bars],
        }
    )
    drawn: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("category:N", sort="-x", title=None),
            x=alt.X("value:Q", title=f"{chart.title} ({chart.unit})"),
            color=alt.Color(
                "group:N", title=None, legend=None if frame["group"].eq("").all() else alt.Legend()
            ),
            tooltip=["category:N", "group:N", alt.Tooltip("value:Q", format=",.4g")],
        )
        .properties(height=max(120, 28 * len(frame)))
    )
    return drawn


def histogram(chart: Histogram) -> alt.LayerChart:
    """The characteristic's distribution with its specification limits (and target)."""
    values = pd.DataFrame({"value": chart.values})
    counts = (
        alt.Chart(values)
        .mark_bar(color=POINT_COLOUR, opacity=0.8)
        .encode(
            x=alt.X(
                "value:Q", bin=alt.Bin(maxbins=30), title=f"{chart.characteristic} ({chart.unit})"
            ),
            y=alt.Y("count():Q", title="Units"),
        )
    )
    names = ["LSL", "USL"] + (["target"] if chart.target is not None else [])
    positions = [chart.lsl, chart.usl] + ([chart.target] if chart.target is not None else [])
    limits = pd.DataFrame({"limit": names, "value": positions})
    rules = (
        alt.Chart(limits)
        .mark_rule(strokeDash=[6, 4], strokeWidth=2)
        .encode(
            x="value:Q",
            color=alt.Color(
                "limit:N",
                title="Limits",
                scale=alt.Scale(
                    domain=names,
                    range=[SPEC_LIMIT_COLOUR, SPEC_LIMIT_COLOUR, SIGNAL_COLOUR][: len(names)],
                ),
            ),
            tooltip=["limit:N", "value:Q"],
        )
    )
    layered: alt.LayerChart = alt.LayerChart(layer=[counts, rules]).properties(height=260)
    return layered


def table_frame(table: Table) -> pd.DataFrame:
    """The table as a DataFrame with its column names."""
    return pd.DataFrame(table.rows, columns=table.columns)

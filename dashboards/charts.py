"""Altair charts of the board: control charts, savings per agent, realized saving over time."""

from __future__ import annotations

import altair as alt
import pandas as pd

from factory_agents.agent import ControlChart

SIGNAL_COLOUR = "#d62728"
POINT_COLOUR = "#1f77b4"
EWMA_COLOUR = "#ff7f0e"
EWMA_LIMIT_COLOUR = "#7f7f7f"
SPEC_LIMIT_COLOUR = "#9467bd"
ESTIMATED_COLOUR = "#aec7e8"
REALIZED_COLOUR = "#2ca02c"


def control_chart_frame(chart: ControlChart) -> pd.DataFrame:
    """One row per sample: time, value, EWMA, and whether (and why) the point signalled."""
    return pd.DataFrame(
        {
            "time": pd.to_datetime(chart.times, utc=True),
            "value": chart.values,
            "ewma": chart.ewma,
            "signalled": [index in chart.signals for index in range(len(chart.values))],
            "signals": [
                ", ".join(chart.signals.get(index, [])) for index in range(len(chart.values))
            ],
        }
    )


def control_chart(chart: ControlChart) -> alt.LayerChart:
    """Values as points (signals highlighted), EWMA line, EWMA limits and specification limits."""
    samples = control_chart_frame(chart)
    value_title = f"{chart.characteristic} ({chart.unit})"
    x = alt.X("time:T", title="Time (UTC)", axis=alt.Axis(format="%H:%M:%S"))
    points = (
        alt.Chart(samples)
        .mark_circle()
        .encode(
            x=x,
            y=alt.Y("value:Q", title=value_title, scale=alt.Scale(zero=False)),
            color=alt.condition(
                "datum.signalled", alt.value(SIGNAL_COLOUR), alt.value(POINT_COLOUR)
            ),
            size=alt.condition("datum.signalled", alt.value(90), alt.value(30)),
            tooltip=[
                alt.Tooltip("time:T", title="time", format="%Y-%m-%d %H:%M:%S"),
                alt.Tooltip("value:Q", format=".4g"),
                alt.Tooltip("ewma:Q", title="EWMA", format=".4g"),
                alt.Tooltip("signals:N", title="signals"),
            ],
        )
    )
    ewma = alt.Chart(samples).mark_line(color=EWMA_COLOUR).encode(x=x, y="ewma:Q")
    limits = pd.DataFrame(
        {
            "limit": ["EWMA LCL", "EWMA UCL", "LSL", "USL"],
            "value": [chart.ewma_lcl, chart.ewma_ucl, chart.lsl, chart.usl],
        }
    )
    rules = (
        alt.Chart(limits)
        .mark_rule(strokeDash=[6, 4])
        .encode(
            y="value:Q",
            color=alt.Color(
                "limit:N",
                title="Limits",
                scale=alt.Scale(
                    domain=["EWMA LCL", "EWMA UCL", "LSL", "USL"],
                    range=[
                        EWMA_LIMIT_COLOUR,
                        EWMA_LIMIT_COLOUR,
                        SPEC_LIMIT_COLOUR,
                        SPEC_LIMIT_COLOUR,
                    ],
                ),
            ),
            tooltip=["limit:N", alt.Tooltip("value:Q", format=".4g")],
        )
    )
    layered: alt.LayerChart = alt.LayerChart(layer=[rules, ewma, points]).properties(height=260)
    return layered


def savings_by_agent(per_agent: pd.DataFrame, currency: str) -> alt.Chart:
    """Grouped bars per agent: estimated next to realized per hour, never stacked or added."""
    bars: alt.Chart = (
        alt.Chart(per_agent)
        .mark_bar()
        .encode(
            x=alt.X("agent:N", title="Agent"),
            xOffset=alt.XOffset("kind:N", sort=["Estimated", "Realized"]),
            y=alt.Y("amount:Q", title=f"Saving per hour ({currency}/h)"),
            color=alt.Color(
                "kind:N",
                title="Saving",
                scale=alt.Scale(
                    domain=["Estimated", "Realized"], range=[ESTIMATED_COLOUR, REALIZED_COLOUR]
                ),
            ),
            tooltip=["agent:N", "kind:N", alt.Tooltip("amount:Q", format=",.2f")],
        )
        .properties(height=320)
    )
    return bars


def cumulative_realized(points: pd.DataFrame, currency: str) -> alt.Chart:
    """Cumulative realized saving over the time each saving was measured."""
    line: alt.Chart = (
        alt.Chart(points)
        .mark_line(point=True, interpolate="step-after", color=REALIZED_COLOUR)
        .encode(
            x=alt.X(
                "recorded_at:T", title="Measured at (UTC)", axis=alt.Axis(format="%b %d %H:%M")
            ),
            y=alt.Y("cumulative:Q", title=f"Cumulative realized saving ({currency})"),
            tooltip=[
                alt.Tooltip("recorded_at:T", title="measured at", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("cumulative:Q", title="cumulative", format=",.2f"),
            ],
        )
        .properties(height=320)
    )
    return line


def savings_breakdown(frame: pd.DataFrame, label: str, currency: str) -> alt.Chart:
    """Grouped bars per agent, domain, line or month: estimated next to realized totals."""
    bars: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("group:N", title=label, sort=None),
            xOffset=alt.XOffset("kind:N", sort=["Estimated", "Realized"]),
            y=alt.Y("amount:Q", title=f"Saving ({currency})"),
            color=alt.Color(
                "kind:N",
                title="Saving",
                scale=alt.Scale(
                    domain=["Estimated", "Realized"], range=[ESTIMATED_COLOUR, REALIZED_COLOUR]
                ),
            ),
            tooltip=["group:N", "kind:N", alt.Tooltip("amount:Q", format=",.2f")],
        )
        .properties(height=280)
    )
    return bars


def kpi_trend(frame: pd.DataFrame) -> alt.Chart:
    """Ratio KPIs (OEE, availability, ...) per period as lines, one colour per KPI and line."""
    lines: alt.Chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title="Period (UTC)"),
            y=alt.Y(
                "value:Q", title="Ratio", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
            ),
            color=alt.Color("kpi:N", title="KPI"),
            strokeDash=alt.StrokeDash("line:N", title="Line"),
            tooltip=[
                "line:N",
                "kpi:N",
                alt.Tooltip("period:T", format="%Y-%m-%d"),
                alt.Tooltip("value:Q", format=".1%"),
            ],
        )
        .properties(height=300)
    )
    return lines


def reliability_trend(frame: pd.DataFrame) -> alt.Chart:
    """MTBF and MTTR per period (hours) as grouped bars."""
    bars: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("period:T", title="Period (UTC)", timeUnit="yearmonthdate"),
            xOffset=alt.XOffset("kpi:N"),
            y=alt.Y("value:Q", title="Hours"),
            color=alt.Color("kpi:N", title=None),
            tooltip=[
                "line:N",
                "kpi:N",
                alt.Tooltip("period:T", format="%Y-%m-%d"),
                alt.Tooltip("value:Q", format=",.2f"),
            ],
        )
        .properties(height=300)
    )
    return bars

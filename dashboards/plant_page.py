"""Plant page: ISO 22400-2 KPIs per line and period (from the MES) with their trends, and the
line's live tags with quality and age (over OPC UA)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import streamlit as st

from dashboards import charts, plant_data, session
from dashboards.formatting import percent
from factory_agents.errors import FactoryAgentsError
from factory_agents.settings import Settings

GRANULARITY_KEY = "plant_granularity"
LAST_DAY_KEY = "plant_last_day"
PERIODS: dict[str, tuple[plant_data.Granularity, int]] = {
    "Day": ("day", 14),
    "Week": ("week", 12),
}
RATIOS = (
    ("OEE", "oee"),
    ("Availability", "availability"),
    ("Effectiveness", "effectiveness"),
    ("Quality ratio", "quality_ratio"),
    ("First pass yield", "first_pass_yield"),
    ("Scrap ratio", "scrap_ratio"),
)
SOURCES = (
    "**Sources.** KPIs per period come from the MES ({mes}): availability, MTBF and MTTR from"
    " its stops (planned stops outside planned busy time, unplanned ones inside); quality"
    " ratio, scrap ratio, effectiveness and OEE from the production counts recorded for the"
    " line, with the planned run time per item from its routing; first pass yield from its"
    " quality checks (passed over inspected). Energy per unit and the live values come from"
    " the line's OPC UA server ({opcua})."
)


def number(value: float | None, digits: int = 1) -> str:
    """A number for a table, or a dash when it is not defined."""
    return "—" if value is None else f"{value:,.{digits}f}"


def kpi_table(rows: list[plant_data.PeriodKpis], granularity: str) -> pd.DataFrame:
    """One row per line and period: every KPI, and the elements it comes from."""
    fmt = "%Y-%m-%d" if granularity == "day" else "week of %Y-%m-%d"
    return pd.DataFrame(
        {
            "Line": [r.line for r in rows],
            "Period (UTC)": [r.start.strftime(fmt) for r in rows],
            "OEE": [percent(r.oee) for r in rows],
            "Availability": [percent(r.availability) for r in rows],
            "Effectiveness": [percent(r.effectiveness) for r in rows],
            "Quality ratio": [percent(r.quality_ratio) for r in rows],
            "Scrap ratio": [percent(r.scrap_ratio) for r in rows],
            "First pass yield": [percent(r.first_pass_yield) for r in rows],
            "MTBF (h)": [number(r.mtbf_hours) for r in rows],
            "MTTR (h)": [number(r.mttr_hours, 2) for r in rows],
            "Produced": [number(r.produced, 0) for r in rows],
            "Stops": [r.stops for r in rows],
            "Checks": [r.inspected for r in rows],
            "Note": [r.problem for r in rows],
        }
    )


def ratio_frame(rows: list[plant_data.PeriodKpis]) -> pd.DataFrame:
    """Long format for the trend chart: one row per line, period and defined ratio KPI."""
    return pd.DataFrame(
        [
            {"line": r.line, "period": r.start, "kpi": name, "value": getattr(r, field)}
            for r in rows
            for name, field in RATIOS
            if getattr(r, field) is not None
        ],
        columns=["line", "period", "kpi", "value"],
    )


def hours_frame(rows: list[plant_data.PeriodKpis]) -> pd.DataFrame:
    """Long format for the MTBF and MTTR chart."""
    return pd.DataFrame(
        [
            {"line": r.line, "period": r.start, "kpi": name, "value": value}
            for r in rows
            for name, value in (("MTBF", r.mtbf_hours), ("MTTR", r.mttr_hours))
            if value is not None
        ],
        columns=["line", "period", "kpi", "value"],
    )


def missing_counts_note(rows: list[plant_data.PeriodKpis]) -> str | None:
    """What cannot be shown because the MES recorded no production counts, if so."""
    if not rows or any(r.produced is not None for r in rows):
        return None
    return (
        "The MES recorded no production counts for the line in these periods, so quality ratio,"
        " scrap ratio, effectiveness and OEE are not defined here (shown as —). The live"
        " counters above give quality and scrap since the line's counters started."
    )


def default_last_day(mes_url: str) -> date:
    """Today (UTC), or the day of the MES's newest record when that is earlier."""
    today = datetime.now(UTC).date()
    newest = plant_data.newest_mes_record(mes_url)
    return min(today, newest.date()) if newest is not None else today


def show_period_kpis(mes_url: str) -> None:
    """The period controls, the KPI trends and the KPI table per line and period."""
    st.subheader("ISO 22400 KPIs per line and period")
    choose, last = st.columns([1, 1])
    label = choose.segmented_control("Period", list(PERIODS), default="Day", key=GRANULARITY_KEY)
    granularity, count = PERIODS[label if isinstance(label, str) else "Day"]
    newest = plant_data.newest_mes_record(mes_url)
    last_day = last.date_input("Last day (UTC)", value=default_last_day(mes_url), key=LAST_DAY_KEY)
    if newest is not None and newest.date() < datetime.now(UTC).date():
        st.caption(
            f"The MES's newest record is from {newest:%Y-%m-%d %H:%M} UTC; the periods end"
            " there unless you pick another day."
        )
    day = last_day if isinstance(last_day, date) else datetime.now(UTC).date()
    try:
        rows = plant_data.line_kpis_for(mes_url, granularity, day, count)
    except FactoryAgentsError as err:
        st.warning(f"The MES cannot be read: {err}")
        return
    if not rows:
        st.info(
            "The MES describes no line (equipment of level 'line'), so there is nothing to show."
        )
        return
    note = missing_counts_note(rows)
    if note:
        st.info(note)
    ratios = ratio_frame(rows)
    trend, reliability = st.columns(2)
    with trend:
        st.markdown("**Ratios per period**")
        if ratios.empty:
            st.caption("No ratio is defined for these periods.")
        else:
            st.altair_chart(charts.kpi_trend(ratios), width="stretch")
    with reliability:
        st.markdown("**MTBF and MTTR per period** (hours)")
        times = hours_frame(rows)
        if times.empty:
            st.caption("No failure (unplanned stop) in these periods.")
        else:
            st.altair_chart(charts.reliability_trend(times), width="stretch")
    st.dataframe(kpi_table(rows, granularity), hide_index=True, width="stretch")


def live_table(reading: plant_data.LiveReading) -> pd.DataFrame:
    """One row per tag: value with unit, quality and age."""
    return pd.DataFrame(
        {
            "Tag": [t.tag for t in reading.tags],
            "What": [t.description for t in reading.tags],
            "Value": [
                "—" if t.value is None else f"{t.value:,.3f}".rstrip("0").rstrip(".") + f" {t.unit}"
                for t in reading.tags
            ],
            "Quality": [str(t.quality) for t in reading.tags],
            "Age": [
                "—" if t.age_seconds is None else f"{t.age_seconds:.1f} s" for t in reading.tags
            ],
        }
    )


@st.fragment(run_every=plant_data.LIVE_REFRESH_SECONDS)
def live_plant() -> None:
    """The line's tags now, and the KPIs of its counters; says so when the server is away."""
    if not session.live_part_allowed():
        return
    endpoint = Settings().opcua_endpoint
    st.subheader("Live tags")
    reading = plant_data.live_tags(endpoint)
    if reading.unreachable:
        st.warning(
            f"The OPC UA server at {endpoint} is unreachable ({reading.unreachable});"
            " live values will show once it answers."
        )
        return
    counters = plant_data.counter_kpis(reading)
    if counters is not None:
        good, scrap, quality, energy = st.columns(4)
        good.metric("Units made (good + scrap)", f"{counters.good + counters.scrap:,.0f}")
        scrap.metric("Scrap ratio", percent(counters.scrap_ratio))
        quality.metric("Quality ratio", percent(counters.quality_ratio))
        energy.metric(
            "Energy per unit",
            "—"
            if counters.energy_per_unit_kwh is None
            else f"{counters.energy_per_unit_kwh * 1000:,.1f} Wh",
            help="Energy of every machine over the units the line made, since its counters"
            " started (OPC UA counters).",
        )
        st.caption("Since the line's counters started (live OPC UA counters).")
    st.dataframe(live_table(reading), hide_index=True, width="stretch")
    st.caption(f"Read at {reading.read_at:%H:%M:%S} UTC from {endpoint}.")


def show_plant_page() -> None:
    """The Plant page: sources, live tags, then KPIs per line and period."""
    session.require()
    settings = Settings()
    st.title("Plant")
    st.caption(
        SOURCES.format(mes=plant_data.mes_location(settings.mes_url), opcua=settings.opcua_endpoint)
    )
    live_plant()
    show_period_kpis(settings.mes_url)

"""The Plant page's data: ISO 22400 KPIs per line and period from the MES, live tags over OPC UA.

Per line and period (UTC days or ISO weeks), from the MES through `SqlMes` (one bounded read
per period, cached: an hour for closed periods, a minute for the current one):

- stops (downtime): planned ones outside the planned busy time, unplanned ones inside it; the
  OEE loss tree of `factory_agents.catalog.losses` turns them into PBT, APT, failures and
  times to restoration (availability, MTBF, MTTR);
- production counts recorded for the line itself (ISO 22400 work-unit level): PQ, GQ, SQ,
  RQ (quality ratio, scrap ratio, and with the planned run time per item, effectiveness and
  the OEE index); a count belongs to the period its interval starts in;
- PRI from the MES routing: the longest operation of each of the line's orders over its
  quantity, the median over orders;
- quality results of the line and its cells: first pass yield = passed / inspected checks.

Energy per unit needs energy per period, which the MES does not record: the page shows it
from the live OPC UA counters instead (energy of every machine over the units the line made
since its counters started), with the line's live tags, their quality and age.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

import streamlit as st
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from connectors.mes import SqlMes
from connectors.mes.schema import DowntimeEvent as DowntimeTable
from connectors.mes.schema import ProductionCount as CountTable
from connectors.mes.schema import QualityResult as QualityTable
from factory_agents import kpi, site
from factory_agents.catalog.losses.mes_lines import line_stops, lines_of, planned_seconds_per_item
from factory_agents.catalog.losses.oee_losses import LinePeriod, analyze_oee_losses
from factory_agents.errors import ConfigurationError, FactoryAgentsError
from factory_agents.isa95 import MesData, MesKind
from factory_agents.llm.reader import site_catalog
from factory_agents.plant import Quality, Sample

Granularity = Literal["day", "week"]
CLOSED_PERIOD_TTL = 3600
LIVE_TTL = 60
LIVE_REFRESH_SECONDS = 5
TAG_TIMEOUT_SECONDS = 2.0
MES_KINDS: tuple[MesKind, ...] = (
    "equipment",
    "work_orders",
    "operations",
    "production_counts",
    "downtime",
    "quality_results",
)


@dataclass(frozen=True)
class PeriodKpis:
    """One line's ISO 22400-2 KPIs over one period, with the elements they come from."""

    line: str
    start: datetime
    end: datetime
    availability: float | None
    effectiveness: float | None
    quality_ratio: float | None
    oee: float | None
    scrap_ratio: float | None
    first_pass_yield: float | None
    mtbf_hours: float | None
    mttr_hours: float | None
    produced: float | None
    good: float | None
    scrap: float | None
    stops: int
    inspected: int
    pri_seconds: float | None
    problem: str = ""


@dataclass(frozen=True)
class LiveTag:
    """A tag's current value as the OPC UA server reports it, with its quality and age."""

    tag: str
    description: str
    value: float | None
    unit: str
    quality: Quality
    age_seconds: float | None


@dataclass(frozen=True)
class LiveReading:
    """The line's live tags, or why they could not be read."""

    endpoint: str
    read_at: datetime
    tags: tuple[LiveTag, ...] = ()
    unreachable: str = ""


def period_bounds(
    granularity: Granularity, last_day: date, count: int
) -> list[tuple[datetime, datetime]]:
    """The `count` periods (UTC days, or ISO weeks from Monday) up to and including last_day."""
    if granularity == "day":
        first = datetime(last_day.year, last_day.month, last_day.day, tzinfo=UTC)
        starts = [first - timedelta(days=n) for n in range(count)]
        return [(start, start + timedelta(days=1)) for start in reversed(starts)]
    monday = last_day - timedelta(days=last_day.weekday())
    first = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    starts = [first - timedelta(weeks=n) for n in range(count)]
    return [(start, start + timedelta(weeks=1)) for start in reversed(starts)]


def mes_location(url: str) -> str:
    """The MES URL without its password, for people to read."""
    return make_url(url).render_as_string(hide_password=True)


def missing_mes(url: str) -> str | None:
    """Why there is no MES database to read at `url` (a SQLite file not there), or None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or Path(parsed.database).exists():
        return None
    return (
        f"there is no MES database at {parsed.database}; the simulated plant creates it when it"
        " starts (`factory-agents up` or `simulate`), or set FACTORY_MES_DATABASE_URL"
    )


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def newest_mes_record(url: str) -> datetime | None:
    """When the MES's newest stop, count or quality result happened (reference schema only)."""
    if missing_mes(url) is not None:
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = [
                connection.scalar(select(func.max(column)))
                for column in (
                    DowntimeTable.started_at,
                    CountTable.start,
                    QualityTable.sampled_at,
                )
            ]
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    times = [t.replace(tzinfo=UTC) if t.tzinfo is None else t for t in found if t is not None]
    return max(times) if times else None


def _fetch(url: str, start: datetime, end: datetime) -> MesData:
    """The MES records of one period (events in it; orders and routing around it)."""
    missing = missing_mes(url)
    if missing is not None:
        raise ConfigurationError(missing)
    mes = SqlMes(url)
    try:
        return asyncio.run(mes.fetch(MES_KINDS, start, end))
    finally:
        mes.close()


@st.cache_data(ttl=CLOSED_PERIOD_TTL, show_spinner=False)
def _closed_period(url: str, start: datetime, end: datetime) -> list[PeriodKpis]:
    return line_kpis(_fetch(url, start, end), start, end)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def _open_period(url: str, start: datetime, end: datetime) -> list[PeriodKpis]:
    return line_kpis(_fetch(url, start, end), start, min(end, datetime.now(UTC)))


def period_kpis(url: str, periods: Sequence[tuple[datetime, datetime]]) -> list[PeriodKpis]:
    """Every line's KPIs for each period (closed periods cached longer than the current one)."""
    now = datetime.now(UTC)
    rows: list[PeriodKpis] = []
    for start, end in periods:
        if start >= now:
            continue
        read = _closed_period if end <= now else _open_period
        rows += read(url, start, end)
    return rows


def line_kpis_for(
    url: str, granularity: Granularity, last_day: date, count: int
) -> list[PeriodKpis]:
    """Every line's KPIs for the `count` days or weeks up to and including `last_day`."""
    return period_kpis(url, period_bounds(granularity, last_day, count))


def line_kpis(data: MesData, start: datetime, end: datetime) -> list[PeriodKpis]:
    """Each line's KPIs over [start, end) from one period's MES records."""
    line_of = lines_of(data.equipment)
    lines = sorted({e.id for e in data.equipment if e.level == "line"})
    return [_one_line(data, line, line_of, start, end) for line in lines]


def _one_line(
    data: MesData, line: str, line_of: dict[str, str], start: datetime, end: datetime
) -> PeriodKpis:
    """One line's KPIs: the loss tree for time and counts, the quality checks for FPY."""
    stops = line_stops(data, line, line_of)
    counts = [
        c for c in data.production_counts if c.equipment_id == line and start <= c.start < end
    ]
    checks = [
        r
        for r in data.quality_results
        if line_of.get(r.equipment_id) == line and start <= r.sampled_at < end
    ]
    fpy = kpi.first_pass_yield(sum(r.passed for r in checks), len(checks)) if checks else None
    pri = planned_seconds_per_item(data, line)
    produced = float(sum(c.good + c.scrap + c.rework for c in counts)) if counts else None
    scrap = float(sum(c.scrap for c in counts)) if counts else None
    rework = float(sum(c.rework for c in counts)) if counts else None
    base = {
        "line": line,
        "start": start,
        "end": end,
        "first_pass_yield": fpy,
        "stops": len(stops),
        "inspected": len(checks),
        "pri_seconds": pri,
        "produced": produced,
        "good": None if produced is None else produced - (scrap or 0) - (rework or 0),
        "scrap": scrap,
    }
    try:
        report = analyze_oee_losses(
            LinePeriod(
                line=line,
                start=start,
                end=end,
                # Without a PRI, effectiveness is not shown; any positive value lets the loss
                # tree compute the time elements, and the smallest one cannot exceed APT.
                pri_seconds=pri or 1e-9,
                produced=produced or 0.0,
                scrap=scrap or 0.0,
                rework=rework or 0.0,
                stops=stops,
            )
        )
    except ValueError as err:
        return PeriodKpis(
            **base,  # type: ignore[arg-type]
            availability=None,
            effectiveness=None,
            quality_ratio=None,
            oee=None,
            scrap_ratio=None,
            mtbf_hours=None,
            mttr_hours=None,
            problem=f"the MES records of this period do not add up: {err}",
        )
    kpis = report.kpis
    counted = produced is not None
    return PeriodKpis(
        **base,  # type: ignore[arg-type]
        availability=kpis.availability,
        effectiveness=kpis.effectiveness if counted and pri is not None else None,
        quality_ratio=kpis.quality_ratio if counted else None,
        oee=kpis.oee_index if counted and pri is not None else None,
        scrap_ratio=kpis.scrap_ratio if counted else None,
        mtbf_hours=kpis.mtbf_hours,
        mttr_hours=kpis.mttr_hours,
    )


def plant_tags() -> list[tuple[str, str, str]]:
    """The numeric tags the Plant page reads live: (tag, unit, description)."""
    return [
        (t.tag, t.unit, t.description or described(t.tag))
        for t in site_catalog()
        if t.kind != "text"
    ]


def described(tag: str) -> str:
    """A tag's path in words: `ns=2;s=Line1.Capper.GoodCount` → `Capper good count`."""
    path = tag.split(";s=", 1)[-1].split(".")
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", path[-1]).lower()
    return f"{path[-2]} {words}" if len(path) > 1 else words


async def _read(endpoint: str, tags: list[str]) -> list[Sample]:
    from connectors.opcua.connector import OpcUaConnector

    async with OpcUaConnector(endpoint, timeout=TAG_TIMEOUT_SECONDS) as plant:
        return await plant.read(tags)


@st.cache_data(ttl=2, show_spinner=False)
def live_tags(endpoint: str) -> LiveReading:
    """The line's tags now over OPC UA, with quality and age; `unreachable` says why not."""
    wanted = plant_tags()
    now = datetime.now(UTC)
    try:
        samples = asyncio.run(
            asyncio.wait_for(_read(endpoint, [t for t, _u, _d in wanted]), TAG_TIMEOUT_SECONDS * 2)
        )
    except (FactoryAgentsError, OSError, TimeoutError) as err:
        return LiveReading(endpoint, now, unreachable=str(err) or type(err).__name__)
    read_at = datetime.now(UTC)
    tags = tuple(
        LiveTag(
            tag=tag,
            description=description,
            value=sample.value if math.isfinite(sample.value) else None,
            unit=unit,
            quality=sample.quality,
            age_seconds=(read_at - sample.source_time).total_seconds(),
        )
        for (tag, unit, description), sample in zip(wanted, samples, strict=True)
    )
    return LiveReading(endpoint, read_at, tags)


@dataclass(frozen=True)
class CounterKpis:
    """KPIs since the line's counters started, from the live OPC UA tags."""

    good: float
    scrap: float
    energy_kwh: float
    quality_ratio: float | None
    scrap_ratio: float | None
    energy_per_unit_kwh: float | None


def counter_kpis(reading: LiveReading) -> CounterKpis | None:
    """Quality, scrap ratio and energy per unit from the live counters (Good values only)."""
    good_values = {
        t.tag: t.value for t in reading.tags if t.quality is Quality.GOOD and t.value is not None
    }
    good = good_values.get(site.LINE_GOOD)
    scrap = good_values.get(site.LINE_SCRAP)
    energies = [site.node(f"Line1.{machine}.Energy") for machine in site.MACHINES]
    if good is None or scrap is None or any(tag not in good_values for tag in energies):
        return None
    energy = sum(good_values[tag] for tag in energies)
    produced = good + scrap
    return CounterKpis(
        good=good,
        scrap=scrap,
        energy_kwh=energy,
        quality_ratio=kpi.quality_ratio(good, produced),
        scrap_ratio=kpi.scrap_ratio(scrap, produced),
        energy_per_unit_kwh=kpi.energy_per_unit(energy, produced),
    )

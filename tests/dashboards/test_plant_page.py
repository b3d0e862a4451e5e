"""The Plant page: ISO 22400 KPIs per line and period from a real MES database, and the line's
live tags over OPC UA from a running simulator (or "unreachable" when none answers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from connectors.mes.schema import (
    DowntimeEvent,
    Equipment,
    Material,
    MesBase,
    Operation,
    ProductionCount,
    QualityResult,
    WorkOrder,
)
from connectors.simulator.config import SimulatorConfig
from connectors.simulator.server import PlantSimulator
from dashboards import plant_data
from dashboards.plant_page import GRANULARITY_KEY, LAST_DAY_KEY
from factory_agents import site
from tests.conftest import free_port

from .board import TIMEOUT, chart_frames, charts, checked, open_board, request_page, sign_in
from .conftest import APP

DAY = date(2025, 3, 4)
MIDNIGHT = datetime(2025, 3, 4, tzinfo=UTC)


def at(hour: float) -> datetime:
    """A time on DAY."""
    return MIDNIGHT + timedelta(hours=hour)


def seed_small_mes(url: str) -> None:
    """One line with one cell: a day with counts, one planned and one unplanned stop, checks."""
    engine = create_engine(url)
    MesBase.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add_all(
            [
                Equipment(id="site1", name="Plant", level="site", parent_id=None),
                Equipment(id="L1", name="Line 1", level="line", parent_id="site1"),
                Equipment(id="L1.filler", name="Filler", level="cell", parent_id="L1"),
                Material(
                    id="FG", name="Water", kind="finished_good", unit="pcs",
                    unit_cost=Decimal("0.2"), currency="EUR",
                ),
            ]
        )  # fmt: skip
        session.flush()
        session.add(
            WorkOrder(
                id="WO-1", product_id="FG", line_id="L1", quantity=6000, quantity_done=3000,
                priority=1, status="running", release_at=at(0), due_at=at(30),
            )
        )  # fmt: skip
        session.flush()
        session.add_all(
            [
                # 100 min for 6000 units: the planned run time per item is 1 s
                Operation(
                    work_order_id="WO-1", sequence=0, equipment_id="L1.filler",
                    duration_minutes=100.0, status="running",
                ),
                ProductionCount(
                    equipment_id="L1", work_order_id="WO-1", start=at(6), end=at(7),
                    good=3000, scrap=100, rework=0,
                ),
                DowntimeEvent(
                    id=1, equipment_id="L1.filler", started_at=at(2), ended_at=at(4),
                    reason_code="DT-CIP", reason="Cleaning in place", planned=True,
                ),
                DowntimeEvent(
                    id=2, equipment_id="L1.filler", started_at=at(10), ended_at=at(11),
                    reason_code="DT-VALVE", reason="Filler valve fault", planned=False,
                ),
            ]
            + [
                QualityResult(
                    id=n, work_order_id="WO-1", equipment_id="L1.filler",
                    characteristic="fill weight", value=500.0, unit="g", lsl=497.0,
                    usl=503.0, passed=n != 1, sampled_at=at(8 + n / 10),
                )
                for n in range(1, 11)
            ]
        )  # fmt: skip
    engine.dispose()


@pytest.fixture
def mes_url(ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The small MES, where the board's settings look for it."""
    url = f"sqlite:///{tmp_path / 'mes.db'}"
    seed_small_mes(url)
    monkeypatch.setenv("FACTORY_MES_DATABASE_URL", url)
    return url


def kpis(app: AppTest) -> pd.DataFrame:
    """The KPI table, one row per line and period."""
    (found,) = [f.value for f in app.dataframe if "OEE" in f.value.columns]
    return found


def test_kpis_of_a_day_follow_iso_22400(mes_url: str) -> None:
    (row,) = plant_data.line_kpis_for(mes_url, "day", DAY, 1)

    # POT 24 h, planned stop 2 h: PBT 22 h; unplanned stop 1 h: APT 21 h
    assert row.availability == pytest.approx(21 / 22)
    assert row.effectiveness == pytest.approx(3100 / (21 * 3600))  # PRI 1 s × PQ / APT
    assert row.quality_ratio == pytest.approx(3000 / 3100)
    assert row.scrap_ratio == pytest.approx(100 / 3100)
    assert row.oee == pytest.approx(21 / 22 * 3100 / (21 * 3600) * 3000 / 3100)
    assert row.first_pass_yield == pytest.approx(9 / 10)
    assert row.mtbf_hours == pytest.approx(21.0) and row.mttr_hours == pytest.approx(1.0)
    assert (row.line, row.stops, row.inspected, row.pri_seconds) == ("L1", 2, 10, 1.0)


def test_the_page_shows_kpis_per_line_and_day_ending_at_the_newest_record(
    mes_url: str,
) -> None:
    app = open_board("mona", page="plant")

    assert app.date_input(key=LAST_DAY_KEY).value == DAY, "the MES's newest record"
    table = kpis(app)
    assert len(table) == 14 and set(table["Line"]) == {"L1"}
    day = table.set_index("Period (UTC)").loc["2025-03-04"]
    assert (day["OEE"], day["Availability"], day["Quality ratio"]) == ("4%", "95%", "97%")
    assert (day["First pass yield"], day["MTBF (h)"], day["MTTR (h)"]) == ("90%", "21.0", "1.00")
    quiet = table.set_index("Period (UTC)").loc["2025-03-03"]
    assert (quiet["Availability"], quiet["Stops"], quiet["OEE"]) == ("100%", 0, "—")
    ratios, reliability = charts(app)
    (frame,) = chart_frames(ratios)
    assert {"OEE", "Availability", "Quality ratio", "First pass yield"} <= set(frame["kpi"])
    assert set(chart_frames(reliability)[0]["kpi"]) == {"MTBF", "MTTR"}


def test_weeks_sum_their_days(mes_url: str) -> None:
    app = open_board("mona", page="plant")

    app.segmented_control(key=GRANULARITY_KEY).set_value("Week")
    checked(app.run())

    table = kpis(app).set_index("Period (UTC)")
    assert len(table) == 12
    week = table.loc["week of 2025-03-03"]  # Monday of DAY's week
    # 7 days: POT 168 h, planned 2 h: PBT 166 h; APT 165 h
    assert week["Availability"] == f"{165 / 166:.0%}"
    assert (week["Stops"], week["Checks"], week["Produced"]) == (2, 10, "3,100")


def test_without_production_counts_the_page_says_what_is_missing(
    mes_url: str, ledger_url: str
) -> None:
    engine = create_engine(mes_url)
    with engine.begin() as connection:
        connection.execute(ProductionCount.__table__.delete())
    engine.dispose()

    app = open_board("ada", page="plant")

    assert any("recorded no production counts" in info.value for info in app.info)
    day = kpis(app).set_index("Period (UTC)").loc["2025-03-04"]
    assert (day["OEE"], day["Quality ratio"], day["Availability"]) == ("—", "—", "95%")


def test_without_mes_or_opc_ua_the_page_says_so(ledger_url: str) -> None:
    app = open_board("ada", page="plant")

    warnings = [w.value for w in app.warning]
    assert any("is unreachable" in w for w in warnings), warnings
    assert any("there is no MES database" in w for w in warnings), warnings
    assert any("Sources." in c.value for c in app.caption)


@pytest.fixture
async def simulator(ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """A running simulated line the board's settings point at."""
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    monkeypatch.setenv("FACTORY_OPCUA_ENDPOINT", endpoint)
    async with PlantSimulator(SimulatorConfig(endpoint=endpoint, speed=50, seed=3)):
        await asyncio.sleep(1.0)  # let the line make some bottles
        yield endpoint


async def test_live_tags_show_value_quality_and_age(simulator: str) -> None:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    sign_in(request_page(app, "plant"), "ada")
    await asyncio.to_thread(app.run)
    checked(app)

    (live,) = [f.value for f in app.dataframe if "Quality" in f.value.columns]
    rows = live.set_index("Tag")
    assert set(rows["Quality"]) == {"good"}
    assert rows.loc[site.FILL_SETPOINT, "Value"] == "500 g"
    assert all(float(age.removesuffix(" s")) < 30 for age in rows["Age"])
    metrics = {m.label: m.value for m in app.metric}
    assert int(metrics["Units made (good + scrap)"].replace(",", "")) > 0
    assert metrics["Energy per unit"].endswith(" Wh")
    assert not [w for w in app.warning if "unreachable" in w.value]

"""The Savings page shows estimated and realized savings apart: totals, per agent, domain, line
and month, over time, per proposal (with a CSV of all), and what the models cost per task."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import savings_data
from dashboards.savings_page import GROUPING_KEY
from factory_agents.ledger import Ledger
from factory_agents.llm.cost import UsageRecord

from .board import chart_frames, chart_spec, charts, checked, open_board


def table_with(app: AppTest, *columns: str) -> pd.DataFrame:
    """The one table on the page that has all these columns."""
    (found,) = [frame.value for frame in app.dataframe if set(columns) <= set(frame.value.columns)]
    return found


def content_hash(url: str, proposal_id: str) -> str:
    """The content hash the ledger holds for a proposal."""
    with Ledger.open(url) as ledger:
        view = ledger.get_proposal(proposal_id)
    assert view is not None
    return view.content_hash


def usage(task_id: str, cost: str, task_ok: bool, task: str = "explain") -> UsageRecord:
    """One model call for a task."""
    return UsageRecord(
        call_id=f"c-{task_id}-{cost}-{task_ok}",
        task_id=task_id,
        task=task,
        model="openai:gpt-4o-mini",
        input_tokens=1000,
        output_tokens=200,
        usage_reported=True,
        cost=Decimal(cost),
        currency="USD",
        latency_seconds=1.0,
        call_ok=True,
        task_ok=task_ok,
        at=datetime.now(UTC),
    )


def test_headline_metrics_come_from_the_ledger(seeded_url: str) -> None:
    app = open_board()

    metrics = {metric.label: metric.value for metric in app.metric}

    assert metrics == {
        "Estimated saving (EUR)": "1,140.00 EUR",
        "Realized saving (EUR)": "38.00 EUR",
        # (30/1 h + 8/2 h) realized per hour over (200/8 h + 100/10 h) estimated per hour
        "Realization rate": "97%",
        "Proposals verified": "2 of 10",
    }


def test_agents_chart_compares_estimated_and_realized_per_hour(seeded_url: str) -> None:
    bars, _cumulative, _breakdown = charts(open_board())

    spec = chart_spec(bars)
    (frame,) = chart_frames(bars)

    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["xOffset"]["field"] == "kind"
    assert "stack" not in spec["encoding"]["y"]
    assert spec["encoding"]["y"]["title"] == "Saving per hour (EUR/h)"
    amounts = {(row.agent, row.kind): row.amount for row in frame.itertuples()}
    assert amounts == {  # verified only: 100 EUR / 10 h vs 8 EUR / 2 h; 200 / 8 h vs 30 / 1 h
        ("oven_energy", "Estimated"): 10.0,
        ("oven_energy", "Realized"): 4.0,
        ("spc_drift", "Estimated"): 25.0,
        ("spc_drift", "Realized"): 30.0,
    }


def test_cumulative_chart_adds_up_realized_savings_only(seeded_url: str) -> None:
    _bars, line, _breakdown = charts(open_board())

    (frame,) = chart_frames(line)

    assert chart_spec(line)["encoding"]["y"]["title"] == "Cumulative realized saving (EUR)"
    assert list(frame["cumulative"]) == [30.0, 38.0]


def test_cumulative_chart_goes_daily_beyond_the_exact_points(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(savings_data, "EXACT_POINTS", 1)

    points = savings_data.cumulative_realized(seeded_url)

    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert [(p.recorded_at.strftime("%Y-%m-%d"), p.cumulative) for p in points] == [
        (today, Decimal("38.00"))
    ]


def test_breakdown_by_agent_keeps_estimated_and_realized_apart(seeded_url: str) -> None:
    app = open_board()

    rows = table_with(app, "Agent", "Estimated saving", "Realization rate").set_index("Agent")
    *_, breakdown = charts(app)

    assert list(rows.index) == ["oven_energy", "spc_drift"]
    assert rows.loc["oven_energy", "Estimated saving"] == "560.00 EUR"
    assert rows.loc["oven_energy", "Realized saving"] == "8.00 EUR"
    assert (rows.loc["oven_energy", "Proposals"], rows.loc["oven_energy", "Verified"]) == (4, 1)
    assert rows.loc["oven_energy", "Realization rate"] == "40%"  # 4 EUR/h over 10 EUR/h
    assert rows.loc["spc_drift", "Estimated saving"] == "580.00 EUR"
    assert rows.loc["spc_drift", "Realization rate"] == "120%"  # 30 EUR/h over 25 EUR/h
    (frame,) = chart_frames(breakdown)
    assert {(r.group, r.kind): r.amount for r in frame.itertuples()} == {
        ("oven_energy", "Estimated"): 560.0,
        ("oven_energy", "Realized"): 8.0,
        ("spc_drift", "Estimated"): 580.0,
        ("spc_drift", "Realized"): 30.0,
    }


@pytest.mark.parametrize(
    ("grouping", "expected"),
    [
        ("Domain", {"not installed": ("560.00 EUR", "40%"), "quality": ("580.00 EUR", "120%")}),
        ("Line", {"line-1": ("1,140.00 EUR", "97%")}),
        ("Month", {datetime.now(UTC).strftime("%Y-%m"): ("1,140.00 EUR", "97%")}),
    ],
)
def test_breakdown_by_domain_line_and_month(
    seeded_url: str, grouping: str, expected: dict[str, tuple[str, str]]
) -> None:
    app = open_board()

    app.segmented_control(key=GROUPING_KEY).set_value(grouping)
    checked(app.run())

    rows = table_with(app, grouping, "Estimated saving", "Realization rate").set_index(grouping)
    assert {k: (r["Estimated saving"], r["Realization rate"]) for k, r in rows.iterrows()} == (
        expected
    )


def test_cost_per_successful_task_per_agent_includes_model_cost(seeded_url: str) -> None:
    explained = {
        pid: f"explain:{pid}:{content_hash(seeded_url, pid)[:12]}"
        for pid in ("p-verified-1", "p-small")
    }
    with Ledger.open(seeded_url) as ledger:
        ledger.record_usage(
            [
                usage(explained["p-verified-1"], "0.0004", True),
                usage(explained["p-small"], "0.0002", False),
                usage("ask:1", "0.0100", True, task="copilot"),  # not an agent's proposal
            ]
        )

    rows = table_with(open_board(), "Cost per successful task").set_index("Agent")

    assert rows.loc["spc_drift", "Domain"] == "quality"
    assert rows.loc["spc_drift", "Verified (successful)"] == 1
    assert rows.loc["spc_drift", "Model cost"] == "0.0006 USD"
    assert rows.loc["spc_drift", "Cost per successful task"] == "0.00060 USD"
    assert rows.loc["oven_energy", "Model cost"] == "0"
    assert rows.loc["oven_energy", "Cost per successful task"] == "0 (no model calls)"


def test_table_shows_each_proposal_with_horizon_and_period(seeded_url: str) -> None:
    rows = table_with(open_board(), "Proposal").set_index("Proposal")

    assert len(rows) == 10
    verified = rows.loc["Adjust setpoint (p-verified-1)"]
    assert verified["Agent"] == "spc_drift"
    assert verified["Line"] == "line-1"
    assert verified["Status"] == "verified"
    assert verified["Estimated saving"] == "200.00 EUR over 8 h"
    assert verified["Realized saving"] == "30.00 EUR over 1 h"
    pending = rows.loc["Adjust setpoint (p-big)"]
    assert pending["Status"] == "pending"
    assert pending["Estimated saving"] == "300.00 EUR over 24 h"
    assert pending["Realized saving"] == "not measured yet"


def test_every_proposal_s_savings_export_as_csv(seeded_url: str) -> None:
    app = open_board()
    (button,) = app.get("download_button")
    assert button.proto.label == "Download every proposal's savings (CSV)"

    rows = list(csv.DictReader(io.StringIO(savings_data.savings_csv(seeded_url))))

    assert len(rows) == 10
    by_id = {row["proposal_id"]: row for row in rows}
    assert by_id["p-verified-2"]["estimated_saving"] == "100.00"
    assert by_id["p-verified-2"]["horizon_hours"] == "10.0"
    assert by_id["p-verified-2"]["realized_saving"] == "8.00"
    assert by_id["p-verified-2"]["verification_hours"] == "2.0"
    assert by_id["p-big"]["realized_saving"] == "" and by_id["p-big"]["currency"] == "EUR"
    assert list(rows[0]) == list(savings_data.CSV_COLUMNS)


def test_empty_ledger_explains_what_will_appear(ledger_url: str) -> None:
    app = open_board()

    assert not app.metric
    assert not charts(app)
    (info,) = app.info
    assert info.value.startswith("No savings recorded yet.")
    assert "estimated" in info.value and "realized" in info.value


def test_unusable_ledger_url_is_explained(ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTORY_DATABASE_URL", "mysql://plant@db/ledger")

    app = open_board()

    (error,) = app.error
    assert "mysql" in error.value and "sqlite:///" in error.value
    assert not app.metric


def test_model_costs_are_shown_per_task_and_per_successful_task(seeded_url: str) -> None:
    with Ledger.open(seeded_url) as ledger:
        ledger.record_usage([usage(f"t{n}", "0.0003", n < 2) for n in range(3)])

    costs = table_with(open_board(), "per successful task")

    assert list(costs["task"]) == ["explain"] and list(costs["model"]) == ["openai:gpt-4o-mini"]
    assert (costs["tasks"][0], costs["successful"][0]) == (3, 2)
    assert costs["cost"][0] == "0.0009 USD"
    assert costs["per successful task"][0] == "0.00045 USD"


def test_the_daily_sums_match_the_savings_they_sum(seeded_url: str) -> None:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from factory_agents.ledger.models import SavingRow, SavingsDaily

    with Ledger.open(seeded_url) as ledger, Session(ledger.engine) as session:
        summed = session.execute(
            select(func.sum(SavingsDaily.estimated_amount), func.sum(SavingsDaily.realized_amount))
        ).one()
        direct = session.execute(
            select(SavingRow.kind, func.sum(SavingRow.amount)).group_by(SavingRow.kind)
        ).all()
    assert dict(direct) == {"estimated": summed[0], "realized": summed[1]}

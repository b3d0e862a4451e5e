"""The Savings page shows estimated and realized savings apart, with totals from the ledger."""

from __future__ import annotations

import pytest

from .board import chart_frames, chart_spec, charts, open_board


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
    bars, _ = charts(open_board())

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
    _, line = charts(open_board())

    (frame,) = chart_frames(line)

    assert chart_spec(line)["encoding"]["y"]["title"] == "Cumulative realized saving (EUR)"
    assert list(frame["cumulative"]) == [30.0, 38.0]


def test_table_shows_each_proposal_with_horizon_and_period(seeded_url: str) -> None:
    (table,) = open_board().dataframe

    rows = table.value.set_index("Proposal")

    assert len(rows) == 10
    verified = rows.loc["Adjust setpoint (p-verified-1)"]
    assert verified["Agent"] == "spc_drift"
    assert verified["Status"] == "verified"
    assert verified["Estimated saving"] == "200.00 EUR over 8 h"
    assert verified["Realized saving"] == "30.00 EUR over 1 h"
    pending = rows.loc["Adjust setpoint (p-big)"]
    assert pending["Status"] == "pending"
    assert pending["Estimated saving"] == "300.00 EUR over 24 h"
    assert pending["Realized saving"] == "not measured yet"


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

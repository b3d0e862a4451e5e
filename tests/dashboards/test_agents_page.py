"""The Agents page: catalog with domain, risk, autonomy, switch, track record and runs; managers
switch agents on and off and change their autonomy (password and reason, audited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboards.agents_page import level_key, password_key, reason_key
from factory_agents.agent import SetpointChange
from factory_agents.ledger import Ledger
from factory_agents.ledger.views import AutonomyLevel
from factory_agents.registry import agent_specs
from tests.factories import build_proposal

from .board import checked, open_board
from .conftest import PASSWORD


def catalog(app: AppTest) -> pd.DataFrame:
    """The catalog table, one row per installed agent."""
    (found,) = [f.value for f in app.dataframe if "Autonomy" in f.value.columns]
    return found.set_index("Agent")


def runs(app: AppTest) -> pd.DataFrame:
    """The last-runs table of the (only) installed agent."""
    (found,) = [f.value for f in app.dataframe if "Skipped" in f.value.columns]
    return found


def switch(app: AppTest, agent: str, verb: str, *, reason: str, password: str) -> AppTest:
    """Fill the switch form of `agent` and press its Enable/Disable button."""
    app.text_input(key=reason_key(agent, "switch")).input(reason)
    app.text_input(key=password_key(agent, "switch")).input(password)
    app.button(key=f"{verb}-{agent}").click()
    return checked(app.run())


def test_the_catalog_shows_each_installed_agent_with_its_state(seeded_url: str) -> None:
    rows = catalog(open_board("ada", page="agents"))

    assert list(rows.index) == sorted(agent_specs())  # every installed agent, by name
    drift = rows.loc["spc_drift"]
    assert (drift["Domain"], drift["Risk"], drift["Enabled"]) == ("quality", "medium", "yes")
    assert drift["Autonomy"] == "assisted"
    # seeded: bob approved p-executed and p-verified-1, both of spc_drift
    assert (drift["Decisions (last 50)"], drift["Approved"], drift["Adverse outcomes"]) == (
        2,
        "100%",
        0,
    )
    assert (drift["Proposals"], drift["Verified"], drift["Last run"]) == (6, 1, "never")


def test_last_runs_show_status_findings_and_skipped_reasons(seeded_url: str) -> None:
    now = datetime.now(UTC)
    with Ledger.open(seeded_url) as ledger:
        for n, skipped in enumerate(({}, {"stale": 3, "rate_limited": 1})):
            ledger.record_run(
                run_id=f"run-{n}",
                agent="spc_drift",
                started_at=now - timedelta(seconds=30 - n * 10),
                finished_at=now - timedelta(seconds=25 - n * 10),
                status="ok",
                findings=n,
                proposals=0,
                skipped=skipped,
                message=f"finding {n}" if n else "",
            )

    app = open_board("ada", page="agents")

    table = runs(app)
    assert list(table["Skipped"]) == ["rate_limited × 1, stale × 3", "—"]
    assert list(table["Findings"]) == [1, 0]
    assert list(table["Message"]) == ["finding 1", ""]
    assert catalog(app).loc["spc_drift", "Last run"].endswith("(ok)")


def test_failed_executions_are_listed_with_what_the_action_said(seeded_url: str) -> None:
    proposal = build_proposal("p-failed", created_at=datetime.now(UTC))
    action = proposal.action
    assert isinstance(action, SetpointChange)
    with Ledger.open(seeded_url) as ledger:
        ledger.record_proposal(proposal, run_id=None, expires_at=datetime.now(UTC) + timedelta(1))
        ledger.record_action(
            "p-failed",
            action,
            status="failed",
            executed_at=datetime.now(UTC),
            message="read-back 500.5 g differs from 500 g",
        )

    app = open_board("ada", page="agents")

    (failures,) = [f.value for f in app.dataframe if "What the action reported" in f.value]
    assert list(failures["What the action reported"]) == ["read-back 500.5 g differs from 500 g"]


def test_a_manager_disables_an_agent_with_a_reason_and_it_is_audited(seeded_url: str) -> None:
    app = open_board("mona", page="agents")

    switch(app, "spc_drift", "disable", reason="new load cell being fitted", password=PASSWORD)

    (success,) = app.success
    assert success.value.startswith("spc_drift: spc_drift is disabled")
    assert catalog(app).loc["spc_drift", "Enabled"] == "no"
    assert any("Disabled by mona" in w.value for w in app.warning)
    assert app.button(key="enable-spc_drift").label == "Enable spc_drift"
    with Ledger.open(seeded_url) as ledger:
        assert not ledger.agent_enabled("spc_drift")
        event = ledger.audit_events(subject="spc_drift")[0]
    assert (event.actor, event.action) == ("mona", "agent.disabled")
    assert event.details["reason"] == "new load cell being fitted"

    switch(app, "spc_drift", "enable", reason="load cell fitted", password=PASSWORD)
    with Ledger.open(seeded_url) as ledger:
        assert ledger.agent_enabled("spc_drift")


def test_a_switch_without_reason_or_with_a_wrong_password_changes_nothing(
    seeded_url: str,
) -> None:
    app = open_board("mona", page="agents")

    switch(app, "spc_drift", "disable", reason="", password=PASSWORD)
    (error,) = app.error
    assert "Enter a reason to disable spc_drift" in error.value

    switch(app, "spc_drift", "disable", reason="checking", password="wrong password here")
    (error,) = app.error
    assert "login refused" in error.value
    with Ledger.open(seeded_url) as ledger:
        assert ledger.agent_enabled("spc_drift")
        assert ledger.audit_events(subject="spc_drift") == []


def test_a_manager_changes_autonomy_but_autonomous_must_be_earned(seeded_url: str) -> None:
    app = open_board("mona", page="agents")

    app.selectbox(key=level_key("spc_drift")).set_value(str(AutonomyLevel.AUTONOMOUS))
    app.text_input(key=reason_key("spc_drift", "autonomy")).input("it has been right so far")
    app.text_input(key=password_key("spc_drift", "autonomy")).input(PASSWORD)
    app.button(key="set-autonomy-spc_drift").click()
    checked(app.run())
    (error,) = app.error
    assert "it stays assisted" in error.value

    app.selectbox(key=level_key("spc_drift")).set_value(str(AutonomyLevel.SHADOW))
    app.text_input(key=reason_key("spc_drift", "autonomy")).input("new product, watch first")
    app.text_input(key=password_key("spc_drift", "autonomy")).input(PASSWORD)
    app.button(key="set-autonomy-spc_drift").click()
    checked(app.run())

    (success,) = app.success
    assert success.value == "spc_drift: spc_drift is shadow."
    with Ledger.open(seeded_url) as ledger:
        assert ledger.autonomy("spc_drift") == AutonomyLevel.SHADOW
    assert catalog(app).loc["spc_drift", "Autonomy"] == "shadow"

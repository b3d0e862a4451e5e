"""The CLI on a seeded ledger: tables and JSON for people and scripts, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factory_agents.cli import app
from factory_agents.ledger import Ledger
from tests.factories import build_proposal, signature
from tests.tamper import without_guard

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A FACTORY_HOME whose ledger holds one pending and one rejected proposal."""
    monkeypatch.setenv("FACTORY_HOME", str(tmp_path))
    monkeypatch.delenv("FACTORY_DATABASE_URL", raising=False)
    now = datetime.now(UTC)
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        for pid in ("p-pending-0001", "p-rejected-0002"):
            ledger.record_proposal(
                build_proposal(pid, created_at=now),
                run_id=None,
                expires_at=now + timedelta(hours=1),
            )
        rejected = build_proposal("p-rejected-0002", created_at=now)
        ledger.record_decision(
            rejected.proposal_id, signature(rejected, "reject", "eve", at=now, reason="no")
        )
    return tmp_path


def test_approvals_list_shows_the_pending_ones_with_full_ids(home: Path) -> None:
    result = runner.invoke(app, ["approvals", "list"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "p-pending-0001" in result.output
    assert "p-rejected-0002" not in result.output
    assert "125.40 EUR" in result.output


def test_approvals_list_json_and_all(home: Path) -> None:
    result = runner.invoke(app, ["approvals", "list", "--all", "--json"])
    rows = json.loads(result.output)
    assert {r["id"]: r["status"] for r in rows} == {
        "p-pending-0001": "pending",
        "p-rejected-0002": "rejected",
    }
    assert "evidence" not in rows[0]["proposal"]  # the chart data stays out of scripts' way
    pending = next(r for r in rows if r["id"] == "p-pending-0001")
    assert "Lower fill setpoint by 0.5 g" in pending["explanation"]  # built without a model


def test_ledger_savings_keeps_estimated_and_realized_apart(home: Path) -> None:
    table = runner.invoke(app, ["ledger", "savings"], env={"COLUMNS": "140"})
    assert table.exit_code == 0, table.output
    assert "not measured yet" in table.output
    rows = json.loads(runner.invoke(app, ["ledger", "savings", "--json"]).output)
    assert {r["estimated_amount"] for r in rows} == {"125.40"}
    assert {r["realized_amount"] for r in rows} == {None}


def test_audit_verify_reports_an_intact_chain(home: Path) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0
    assert "intact" in result.output


def test_audit_verify_fails_on_an_edited_row(home: Path) -> None:
    with Ledger.open(f"sqlite:///{home / 'ledger.db'}") as ledger:
        without_guard(ledger.engine, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 1")
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "seq 1: hash mismatch" in result.output
    assert "was edited" in result.output


def test_agents_list_names_the_installed_agents() -> None:
    rows = json.loads(runner.invoke(app, ["agents", "list", "--json"]).output)
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) >= {"spc_drift", "capability", "defect_burst"}
    assert (by_name["defect_burst"]["domain"], by_name["defect_burst"]["risk"]) == (
        "quality",
        "medium",
    )
    assert by_name["capability"]["autonomy"] == "assisted"


def test_approving_an_unknown_proposal_says_what_to_do(home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "factory_agents", "approvals", "approve", "p-nope", "--reason", "x"],
        capture_output=True, text=True, timeout=60, check=False,
        env={"FACTORY_HOME": str(home), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "no proposal 'p-nope'" in done.stderr
    assert "approvals list" in done.stderr
    assert "Traceback" not in done.stderr

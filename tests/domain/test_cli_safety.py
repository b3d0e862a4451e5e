"""The safety commands a user runs without a running platform: autonomy earned by a track
record (managers only), and the signed-off audit export."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factory_agents.cli import app
from factory_agents.identity import Role, UsersFile, load_signing_key
from factory_agents.ledger import Ledger
from factory_agents.ledger.views import AutonomyLevel
from tests.factories import build_proposal, signature
from tests.identity.helpers import cheap_hasher

PASSWORD = "correct horse battery"
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """FACTORY_HOME with a ledger, a signing key, an engineer and a manager."""
    monkeypatch.setenv("FACTORY_HOME", str(tmp_path))
    monkeypatch.delenv("FACTORY_DATABASE_URL", raising=False)
    users = UsersFile.in_home(tmp_path, hasher=cheap_hasher())
    users.add_user(
        "bob", full_name="Bob Engineer", roles=(Role.ENGINEER,), areas=("site1",), password=PASSWORD
    )
    users.add_user(
        "mona", full_name="Mona Manager", roles=(Role.MANAGER,), areas=("site1",), password=PASSWORD
    )
    load_signing_key(tmp_path, create=True)
    Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}").close()
    return tmp_path


def decided(home: Path, *, approved: int, rejected: int) -> None:
    """Give spc_drift a track record: proposals decided by bob, oldest first."""
    now = datetime.now(UTC)
    with Ledger.open(f"sqlite:///{home / 'ledger.db'}") as ledger:
        for n in range(approved + rejected):
            made = build_proposal(
                f"p-{n:03d}", node_id=f"n{n}", created_at=now + timedelta(seconds=n)
            )
            ledger.record_proposal(made, run_id=None, expires_at=now + timedelta(hours=1))
            verdict = "approve" if n < approved else "reject"
            ledger.record_decision(made.proposal_id, signature(made, verdict, "bob", at=now))


def autonomy(*args: str, user: str = "mona") -> tuple[int, str]:
    """Run `agents autonomy ARGS` signed by `user`; exit code and all output."""
    result = runner.invoke(
        app,
        ["agents", "autonomy", *args, "--user", user, "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    return result.exit_code, result.output + str(result.exception or "")


def test_autonomy_must_be_earned_by_a_measured_track_record(home: Path) -> None:
    decided(home, approved=17, rejected=2)
    code, said = autonomy("spc_drift", "autonomous", "--reason", "proven")
    assert code == 1
    assert "19 decisions of the 20 needed" in said and "89% approved, below 90%" in said
    decided_more = build_proposal(
        "p-late", node_id="late", created_at=datetime.now(UTC) + timedelta(hours=1)
    )
    with Ledger.open(f"sqlite:///{home / 'ledger.db'}") as ledger:
        ledger.record_proposal(
            decided_more, run_id=None, expires_at=datetime.now(UTC) + timedelta(hours=2)
        )
        ledger.record_decision("p-late", signature(decided_more, "approve", "bob"))
        assert ledger.autonomy("spc_drift") == AutonomyLevel.ASSISTED
    code, said = autonomy("spc_drift", "autonomous", "--reason", "proven")
    assert code == 0, said
    assert "spc_drift is autonomous" in said and "20 decisions, 90% approved" in said
    with Ledger.open(f"sqlite:///{home / 'ledger.db'}") as ledger:
        assert ledger.autonomy("spc_drift") == AutonomyLevel.AUTONOMOUS
        (event,) = [e for e in ledger.audit_events("spc_drift") if e.action == "agent.autonomy"]
        assert (event.actor, event.details["to"], event.details["reason"]) == (
            "mona",
            "autonomous",
            "proven",
        )


def test_only_managers_change_autonomy_and_only_for_installed_agents(home: Path) -> None:
    code, said = autonomy("spc_drift", "shadow", "--reason", "new line", user="bob")
    assert code == 1 and "may not change an agent's autonomy; only manager may" in said
    code, said = autonomy("no_such_agent", "shadow", "--reason", "x")
    assert code == 1 and "no agent 'no_such_agent' is installed" in said
    code, said = autonomy("spc_drift", "shadow", "--reason", "new line")
    assert code == 0 and "spc_drift is shadow" in said


def test_the_audit_export_is_a_csv_and_a_signed_off_report(home: Path, tmp_path: Path) -> None:
    decided(home, approved=1, rejected=1)
    out = tmp_path / "reports"
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    result = runner.invoke(
        app,
        ["audit", "export", "--from", today, "--to", today, "--out", str(out), "--user", "bob",
         "--password-stdin"],
        input=f"{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (csv_file,) = out.glob("*.csv")
    (html_file,) = out.glob("*.html")
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text())))
    assert [r["action"] for r in rows] == [
        "proposal.created", "proposal.approved", "proposal.created", "proposal.rejected"
    ]  # fmt: skip
    page = html_file.read_text()
    assert hashlib.sha256(csv_file.read_bytes()).hexdigest() in page
    assert "intact: 4 events, hash chain verified" in page
    assert "signed off by Bob Engineer (bob, engineer)" in page
    assert page.count("<td>bob</td>") == 2, "both decisions with their signer"


def test_a_wrong_password_exports_nothing(home: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["audit", "export", "--from", "2026-01-01", "--to", "2026-01-02", "--out",
         str(tmp_path / "r"), "--user", "bob", "--password-stdin"],
        input="nope\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert not (tmp_path / "r").exists()

"""Board fixtures: a temp SQLite ledger the board reads, seeded with proposals in every state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pytest
import streamlit as st

import dashboards.session
from factory_agents.agent import (
    Baseline,
    ControlChart,
    EstimatedSaving,
    Proposal,
    RealizedSaving,
    SetpointChange,
)
from factory_agents.identity import Role, UsersFile
from factory_agents.ledger import Ledger, ProposalStatus
from tests.factories import signature
from tests.identity.helpers import FakeClock, cheap_hasher

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
BOARD_USER = "ada"
PASSWORD = "correct horse battery"
"""Every board user's password."""
USERS = {
    # id: (full name, role, areas)
    "ada": ("Ada Engineer", Role.ENGINEER, ("site1",)),
    "grace": ("Grace Engineer", Role.ENGINEER, ("site1",)),
    "mona": ("Mona Manager", Role.MANAGER, ("site1",)),
    "ian": ("Ian Integrator", Role.INTEGRATOR, ("*",)),
}


@dataclass(frozen=True)
class Seed:
    """One seeded proposal: where it ends up and its savings."""

    proposal_id: str
    agent: str
    estimated: Decimal
    horizon_hours: float
    expires_in: timedelta
    final: ProposalStatus
    realized: Decimal | None = None
    period_hours: float | None = None

    @property
    def title(self) -> str:
        """The proposal's title, unique per seed."""
        return f"Adjust setpoint ({self.proposal_id})"


SEEDS = (
    Seed(
        "p-small", "spc_drift", Decimal("50.00"), 8.0, timedelta(minutes=30), ProposalStatus.PENDING
    ),
    Seed(
        "p-big",
        "oven_energy",
        Decimal("300.00"),
        24.0,
        timedelta(minutes=50),
        ProposalStatus.PENDING,
    ),
    Seed(
        "p-tie-late",
        "spc_drift",
        Decimal("120.00"),
        8.0,
        timedelta(minutes=40),
        ProposalStatus.PENDING,
    ),
    Seed(
        "p-tie-soon",
        "oven_energy",
        Decimal("120.00"),
        8.0,
        timedelta(minutes=10),
        ProposalStatus.PENDING,
    ),
    Seed(
        "p-lapsed",
        "spc_drift",
        Decimal("70.00"),
        8.0,
        -timedelta(minutes=5),
        ProposalStatus.PENDING,
    ),
    Seed(
        "p-expired",
        "spc_drift",
        Decimal("60.00"),
        8.0,
        -timedelta(minutes=1),
        ProposalStatus.EXPIRED,
    ),
    Seed(
        "p-rejected",
        "oven_energy",
        Decimal("40.00"),
        8.0,
        timedelta(minutes=20),
        ProposalStatus.REJECTED,
    ),
    Seed(
        "p-executed",
        "spc_drift",
        Decimal("80.00"),
        8.0,
        timedelta(minutes=20),
        ProposalStatus.EXECUTED,
    ),
    Seed(
        "p-verified-1",
        "spc_drift",
        Decimal("200.00"),
        8.0,
        timedelta(minutes=20),
        ProposalStatus.VERIFIED,
        realized=Decimal("30.00"),
        period_hours=1.0,
    ),
    Seed(
        "p-verified-2",
        "oven_energy",
        Decimal("100.00"),
        10.0,
        timedelta(minutes=20),
        ProposalStatus.VERIFIED,
        realized=Decimal("8.00"),
        period_hours=2.0,
    ),
)
PENDING_ORDER = ["p-big", "p-tie-soon", "p-tie-late", "p-small"]
"""Pending and unexpired: largest estimated saving first, then least time left."""


def build_proposal(seed: Seed, created_at: datetime) -> Proposal:
    """A setpoint proposal for `seed`, with a small control chart as evidence."""
    times = [created_at - timedelta(seconds=10 * (5 - i)) for i in range(5)]
    return Proposal(
        proposal_id=seed.proposal_id,
        agent=seed.agent,
        line="line-1",
        title=seed.title,
        rationale=f"EWMA of fill weight drifted above its upper limit ({seed.proposal_id}).",
        action=SetpointChange(
            action_id=f"{seed.proposal_id}-act",
            node_id=f"ns=2;s=Line1/{seed.proposal_id}/Setpoint",
            from_value=500.5,
            to_value=500.0,
            unit="g",
        ),
        evidence=ControlChart(
            characteristic="fill_weight",
            unit="g",
            times=times,
            values=[500.1, 500.3, 500.9, 501.2, 501.4],
            ewma=[500.1, 500.2, 500.4, 500.6, 500.8],
            center=500.0,
            sigma=0.4,
            ewma_lcl=499.6,
            ewma_ucl=500.4,
            lsl=498.0,
            usl=503.0,
            signals={3: ["ewma above UCL"], 4: ["ewma above UCL"]},
        ),
        estimated_saving=EstimatedSaving(
            amount=seed.estimated,
            horizon_hours=seed.horizon_hours,
            formula="overfill_g * units_per_hour * horizon_h * cost_per_g",
            inputs={"overfill_g": 0.8, "units_per_hour": 1200.0},
            assumptions=["throughput stays at 1200 units/h"],
        ),
        baseline=Baseline(
            metric="mean_fill_g",
            value=501.2,
            units=600,
            start=created_at - timedelta(hours=1),
            end=created_at,
            method="mean of good units over the last hour",
        ),
        unit_cost=Decimal("0.0105"),
        counters=("ns=2;s=Line1/Good", "ns=2;s=Line1/Scrap"),
        created_at=created_at,
    )


def record(ledger: Ledger, seed: Seed, now: datetime) -> None:
    """Record `seed`'s proposal and take it, through the ledger's own writes, to its status."""
    proposal = build_proposal(seed, now - timedelta(minutes=2))
    ledger.record_proposal(proposal, run_id=None, expires_at=now + seed.expires_in)
    if seed.final == ProposalStatus.PENDING:
        return
    if seed.final == ProposalStatus.EXPIRED:
        ledger.set_status(seed.proposal_id, ProposalStatus.EXPIRED, actor="factory-agents")
        return
    decision: Literal["approve", "reject"] = (
        "reject" if seed.final == ProposalStatus.REJECTED else "approve"
    )
    ledger.record_decision(
        seed.proposal_id,
        signature(
            proposal, decision, "bob", at=now - timedelta(minutes=1),
            reason=f"{decision} {seed.proposal_id}",
        ),
    )  # fmt: skip
    if seed.final == ProposalStatus.REJECTED:
        return
    action = proposal.action
    assert isinstance(action, SetpointChange)
    ledger.record_action(
        seed.proposal_id,
        action,
        read_back=action.to_value,
        status=ProposalStatus.EXECUTED,
        executed_at=now,
    )
    if seed.realized is None or seed.period_hours is None:
        return
    realized = RealizedSaving(
        amount=seed.realized,
        period_hours=seed.period_hours,
        metric_after=500.1,
        units=1200,
        method="overfill avoided on good units",
    )
    ledger.record_realized(seed.proposal_id, realized, baseline=proposal.baseline)


def add_board_users(home: Path) -> None:
    """The board's users (engineers, a manager, an integrator), all with PASSWORD."""
    users = UsersFile.in_home(home, hasher=cheap_hasher())
    for user_id, (name, role, areas) in USERS.items():
        users.add_user(user_id, full_name=name, roles=(role,), areas=areas, password=PASSWORD)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The board's clock, moved by hand (the idle lock reads it)."""
    fake = FakeClock(datetime.now(UTC))
    monkeypatch.setattr(dashboards.session, "clock", fake)
    return fake


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[str]:
    """An empty SQLite ledger the board reads through FACTORY_* settings; users in its home.

    The OPC UA endpoint is a port nothing listens on, so the Plant page's live part is quick
    to find it unreachable; the MES is the home's (absent unless a test seeds one)."""
    from tests.conftest import free_port

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("FACTORY_HOME", str(tmp_path))
    monkeypatch.setenv("FACTORY_DATABASE_URL", url)
    monkeypatch.setenv("FACTORY_USER", BOARD_USER)
    monkeypatch.setenv(
        "FACTORY_OPCUA_ENDPOINT", f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    )
    add_board_users(tmp_path)
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def seeded_url(ledger_url: str) -> str:
    """The ledger holding every seed, in order, with its decisions, actions and savings."""
    now = datetime.now(UTC)
    with Ledger.open(ledger_url) as ledger:
        for seed in SEEDS:
            record(ledger, seed, now)
    return ledger_url

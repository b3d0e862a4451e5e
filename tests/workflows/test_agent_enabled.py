"""A disabled agent's proposals are withheld at admission ("agent_disabled"), audited switches."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from factory_agents.agent import Proposal, SetpointChange
from factory_agents.errors import LedgerError
from factory_agents.ledger import Ledger
from factory_agents.policy import Policy, SetpointLimit
from factory_agents.settings import Settings
from factory_agents.site import FILL_SETPOINT
from tests.factories import build_proposal
from workflows.admission import Admission, Withheld
from workflows.contracts import ProposalTicket

POLICY = Policy(
    setpoints=(
        SetpointLimit(
            node_id=FILL_SETPOINT, unit="g", minimum=490, maximum=510, max_step=4, risk="low"
        ),
    )
)


def proposal() -> Proposal:
    """A fill-setpoint proposal of the spc_drift agent with a fresh id."""
    pid = f"p-{uuid.uuid4().hex[:8]}"
    return build_proposal(
        pid,
        node_id=FILL_SETPOINT,
        created_at=datetime.now(UTC),
        action=SetpointChange(
            action_id=f"a-{pid}", node_id=FILL_SETPOINT, from_value=500.0, to_value=499.0, unit="g"
        ),
    )


def test_a_disabled_agent_s_proposals_are_withheld_until_it_is_enabled(tmp_path: Path) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        admission = Admission(Settings(home=tmp_path), ledger, POLICY)
        assert ledger.set_agent_enabled("spc_drift", False, actor="mona", reason="new sensor")

        withheld = admission.admit(proposal(), "run-1", datetime.now(UTC))

        assert isinstance(withheld, Withheld) and withheld.reason == "agent_disabled"
        assert "disabled by mona (new sensor)" in withheld.message
        assert ledger.list_proposals() == [], "nothing withheld reaches the queue"

        assert ledger.set_agent_enabled("spc_drift", True, actor="mona", reason="sensor fitted")
        admitted = admission.admit(proposal(), "run-2", datetime.now(UTC))
        assert isinstance(admitted, ProposalTicket)
        assert len(ledger.list_proposals()) == 1


def test_switching_is_audited_with_who_and_why_and_idempotent(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        assert ledger.agent_enabled("spc_drift"), "enabled until someone disables it"
        assert ledger.set_agent_enabled("spc_drift", False, actor="mona", reason="new sensor")
        assert not ledger.set_agent_enabled("spc_drift", False, actor="mona", reason="again")

        switch = ledger.agent_switch("spc_drift")
        assert (switch.enabled, switch.changed_by, switch.reason) == (False, "mona", "new sensor")
        assert ledger.agent_switches() == {"spc_drift": switch}
        (event,) = ledger.audit_events(subject="spc_drift")
        assert (event.actor, event.action) == ("mona", "agent.disabled")
        assert event.details == {"enabled": False, "reason": "new sensor"}
        assert ledger.audit_report().ok
        with pytest.raises(LedgerError, match="say why spc_drift is enabled"):
            ledger.set_agent_enabled("spc_drift", True, actor="mona", reason="  ")
        assert not ledger.agent_enabled("spc_drift"), "nothing changes without a reason"


def test_other_agents_are_not_affected(tmp_path: Path) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.set_agent_enabled("oven_energy", False, actor="mona", reason="oven rebuilt")

        admitted = Admission(Settings(home=tmp_path), ledger, POLICY).admit(
            proposal(), "run-1", datetime.now(UTC)
        )

        assert isinstance(admitted, ProposalTicket)
        assert ledger.agent_enabled("spc_drift") and not ledger.agent_enabled("oven_energy")

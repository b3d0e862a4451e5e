"""Decisions: one per proposal, idempotent for the same user, refused clearly otherwise."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from factory_agents.agent import Proposal
from factory_agents.errors import ProposalError, ProposalNotFound, ProposalNotPending
from factory_agents.ledger import Ledger
from tests.factories import signature

MakeProposal = Callable[..., Proposal]
T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def _decide(
    ledger: Ledger,
    proposal: Proposal,
    decision: Literal["approve", "reject"],
    user: str,
    *,
    proposal_hash: str | None = None,
) -> None:
    ledger.record_decision(
        proposal.proposal_id, signature(proposal, decision, user, proposal_hash=proposal_hash)
    )


@pytest.fixture
def proposal(ledger: Ledger, make_proposal: MakeProposal) -> Proposal:
    made = make_proposal()
    ledger.record_proposal(made, run_id=None, expires_at=T0 + timedelta(hours=1))
    return made


def test_reject_sets_status_rejected_and_repeats_quietly(
    ledger: Ledger, proposal: Proposal
) -> None:
    _decide(ledger, proposal, "reject", "ana")
    _decide(ledger, proposal, "reject", "ana")
    view = ledger.get_proposal(proposal.proposal_id)
    assert view is not None and view.status == "rejected"
    assert view.decision is not None and view.decision.reason == "ana says reject"
    assert len(ledger.audit_events(subject=proposal.proposal_id)) == 2  # created + rejected


def test_a_different_decision_says_who_decided_what_and_when(
    ledger: Ledger, proposal: Proposal
) -> None:
    _decide(ledger, proposal, "approve", "ana")
    with pytest.raises(
        ProposalNotPending, match=r"already approved by ana at 2025-03-04T08:02:00\+00:00"
    ):
        _decide(ledger, proposal, "reject", "ana")
    with pytest.raises(ProposalNotPending, match=r"is approved \(approved by ana\), not pending"):
        _decide(ledger, proposal, "approve", "ben")
    view = ledger.get_proposal(proposal.proposal_id)
    assert view is not None and view.status == "approved" and view.decision is not None
    assert view.decision.user == "ana"


def test_a_proposal_no_longer_pending_cannot_be_decided(ledger: Ledger, proposal: Proposal) -> None:
    ledger.set_status(proposal.proposal_id, "expired", actor="ttl")
    with pytest.raises(ProposalNotPending, match="is expired, not pending"):
        _decide(ledger, proposal, "approve", "ana")
    assert ledger.get_proposal(proposal.proposal_id).decision is None  # type: ignore[union-attr]


def test_a_decision_after_expiry_is_refused(ledger: Ledger, proposal: Proposal) -> None:
    with pytest.raises(ProposalNotPending, match=r"expired at 2025-03-04T09:00:00\+00:00"):
        ledger.record_decision(
            proposal.proposal_id, signature(proposal, "approve", "ana", at=T0 + timedelta(hours=2))
        )
    assert ledger.get_proposal(proposal.proposal_id).status == "pending"  # type: ignore[union-attr]


def test_a_decision_on_other_content_is_refused(ledger: Ledger, proposal: Proposal) -> None:
    with pytest.raises(ProposalError, match="reload the proposal and decide again"):
        _decide(ledger, proposal, "approve", "ana", proposal_hash="f" * 64)
    assert ledger.get_proposal(proposal.proposal_id).status == "pending"  # type: ignore[union-attr]


def test_unknown_proposal(ledger: Ledger, make_proposal: MakeProposal) -> None:
    with pytest.raises(ProposalNotFound, match="no proposal 'ghost'"):
        _decide(ledger, make_proposal("ghost"), "approve", "ana")


def test_two_approvers_complete_a_decision_and_a_third_is_refused(
    ledger: Ledger, proposal: Proposal
) -> None:
    pid = proposal.proposal_id
    assert ledger.record_decision(pid, signature(proposal, "approve", "ana"), approvers=2) is False
    assert ledger.record_decision(pid, signature(proposal, "approve", "ana"), approvers=2) is False
    view = ledger.get_proposal(pid)
    assert view is not None and view.status == "pending" and len(view.decisions) == 1
    with pytest.raises(ProposalNotPending, match="already approved by ana"):
        ledger.record_decision(pid, signature(proposal, "reject", "ANA"), approvers=2)
    assert ledger.record_decision(pid, signature(proposal, "approve", "ben"), approvers=2) is True
    view = ledger.get_proposal(pid)
    assert view is not None and view.status == "approved"
    assert [d.user for d in view.decisions] == ["ana", "ben"]
    with pytest.raises(
        ProposalNotPending, match=r"is approved \(approved by ana, approved by ben\)"
    ):
        ledger.record_decision(pid, signature(proposal, "approve", "cy"), approvers=2)
    actions = [e.action for e in ledger.audit_events(pid)]
    assert actions == ["proposal.approved", "proposal.signed", "proposal.created"]


def test_a_rejection_after_one_of_two_approvals_decides(ledger: Ledger, proposal: Proposal) -> None:
    pid = proposal.proposal_id
    ledger.record_decision(pid, signature(proposal, "approve", "ana"), approvers=2)
    assert ledger.record_decision(pid, signature(proposal, "reject", "ben"), approvers=2) is True
    view = ledger.get_proposal(pid)
    assert view is not None and view.status == "rejected"


def test_two_signers_at_once_complete_a_one_approver_decision_once(
    ledger: Ledger, make_proposal: MakeProposal
) -> None:
    """Writers race on PostgreSQL too: the proposal's row is locked while a decision is counted."""
    for round_ in range(5):  # one race may be won by luck; five in a row take the lock
        proposal = make_proposal(f"race-{round_}", node_id=f"n{round_}")
        ledger.record_proposal(proposal, run_id=None, expires_at=T0 + timedelta(hours=1))
        barrier = threading.Barrier(2)

        def sign(
            user: str, proposal: Proposal = proposal, barrier: threading.Barrier = barrier
        ) -> object:
            barrier.wait()
            try:
                return ledger.record_decision(
                    proposal.proposal_id, signature(proposal, "approve", user)
                )
            except ProposalNotPending as err:
                return err

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(sign, ["ana", "ben"]))
        assert results.count(True) == 1, results
        assert sum(isinstance(r, ProposalNotPending) for r in results) == 1, results
        view = ledger.get_proposal(proposal.proposal_id)
        assert view is not None and len(view.decisions) == 1

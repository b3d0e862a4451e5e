"""A proposal's life in the ledger: created, decided, executed, verified; each write idempotent."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from factory_agents.agent import Baseline, Proposal, RealizedSaving
from factory_agents.errors import LedgerError, ProposalNotFound
from factory_agents.ledger import Ledger, ProposalStatus
from tests.factories import signature

MakeProposal = Callable[..., Proposal]
T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
EXPIRES = T0 + timedelta(hours=1)


def _realized(amount: str = "80.00", currency: str = "EUR") -> RealizedSaving:
    return RealizedSaving(
        amount=Decimal(amount),
        currency=currency,
        period_hours=0.5,
        metric_after=500.1,
        units=300,
        method="overfill before minus after, times units and cost per gram",
    )


def _baseline() -> Baseline:
    return Baseline(
        metric="mean_fill_g",
        value=501.2,
        units=600,
        start=T0 - timedelta(hours=1),
        end=T0,
        method="mean of good units over the last hour",
    )


def _approve(ledger: Ledger, proposal: Proposal, user: str = "ana") -> None:
    ledger.record_decision(
        proposal.proposal_id,
        signature(
            proposal, "approve", user, at=T0 + timedelta(minutes=5),
            reason="drift confirmed on the line",
        ),
    )  # fmt: skip


def _execute(ledger: Ledger, proposal: Proposal, status: str = "executed") -> None:
    ledger.record_action(
        proposal.proposal_id,
        proposal.action,
        read_back=500.0 if status == "executed" else None,
        status=status,
        executed_at=T0 + timedelta(minutes=6),
        message="" if status == "executed" else "write refused by the PLC",
    )


def test_record_run_is_idempotent(ledger: Ledger) -> None:
    for _ in range(2):
        ledger.record_run(
            run_id="run-1",
            agent="spc_drift",
            started_at=T0,
            finished_at=T0 + timedelta(seconds=2),
            status="ok",
            findings=2,
            proposals=1,
            skipped={"stale": 1},
        )
    events = ledger.audit_events(subject="run-1")
    assert [e.action for e in events] == ["run.recorded"]
    assert events[0].details["skipped"] == {"stale": 1}


def test_full_lifecycle(ledger: Ledger, make_proposal: MakeProposal) -> None:
    proposal = make_proposal()
    assert ledger.record_proposal(proposal, run_id="run-1", expires_at=EXPIRES) is True
    assert ledger.record_proposal(proposal, run_id="run-1", expires_at=EXPIRES) is False

    view = ledger.get_proposal(proposal.proposal_id)
    assert view is not None
    assert (view.status, view.agent, view.line, view.run_id) == (
        "pending",
        "spc_drift",
        "line-1",
        "run-1",
    )
    assert view.proposal == proposal
    assert view.content_hash == proposal.content_hash()
    assert view.created_at == T0 and view.expires_at == EXPIRES
    assert view.created_at.tzinfo is not None and view.created_at.utcoffset() == timedelta(0)
    assert (view.estimated_amount, view.realized_amount, view.currency) == (
        Decimal("125.40"),
        None,
        "EUR",
    )
    assert view.decision is None and view.action is None
    assert ledger.open_proposal_for(proposal.action.subject) == proposal.proposal_id

    _approve(ledger, proposal)
    _approve(ledger, proposal)  # the same decision again is a no-op
    view = ledger.get_proposal(proposal.proposal_id)
    assert view is not None and view.status == "approved"
    assert view.decision is not None
    assert (view.decision.user, view.decision.decision) == ("ana", "approve")
    assert view.decision.decided_at == T0 + timedelta(minutes=5)

    _execute(ledger, proposal)
    _execute(ledger, proposal)  # idempotent on action id
    action = ledger.get_action(proposal.action.action_id)
    assert action is not None
    assert (action.from_value, action.to_value, action.read_back) == (500.5, 500.0, 500.0)
    assert action.executed_at == T0 + timedelta(minutes=6)
    assert ledger.get_proposal(proposal.proposal_id).status == "executed"  # type: ignore[union-attr]
    assert ledger.open_proposal_for(proposal.action.subject) == proposal.proposal_id

    ledger.record_realized(proposal.proposal_id, _realized(), baseline=_baseline())
    ledger.record_realized(proposal.proposal_id, _realized("1.00"), baseline=_baseline())  # no-op
    view = ledger.get_proposal(proposal.proposal_id)
    assert view is not None and view.status == "verified"
    assert view.action is not None and view.action.action_id == proposal.action.action_id
    assert (view.estimated_amount, view.realized_amount) == (Decimal("125.40"), Decimal("80.00"))
    assert ledger.open_proposal_for(proposal.action.subject) is None

    actions = [e.action for e in reversed(ledger.audit_events(subject=proposal.proposal_id))]
    assert actions == [
        "proposal.created",
        "proposal.approved",
        "action.recorded",
        "saving.realized",
    ]
    assert ledger.audit_report().ok


def test_estimated_and_realized_are_kept_apart(ledger: Ledger, make_proposal: MakeProposal) -> None:
    done = make_proposal("done", node_id="a", amount=Decimal("100.00"))
    open_ = make_proposal(
        "open", node_id="b", amount=Decimal("40.00"), created_at=T0 + timedelta(minutes=1)
    )
    other = make_proposal("other", agent="energy", node_id="c", amount=Decimal("7.00"))
    for proposal in (done, open_, other):
        ledger.record_proposal(proposal, run_id=None, expires_at=EXPIRES)
    _approve(ledger, done)
    _execute(ledger, done)
    ledger.record_realized("done", _realized("61.25"), baseline=_baseline())

    lines = {line.proposal_id: line for line in ledger.savings_by_proposal()}
    assert ledger.savings_by_proposal()[0].proposal_id == "open"  # newest first
    assert (lines["done"].estimated_amount, lines["done"].realized_amount) == (
        Decimal("100.00"),
        Decimal("61.25"),
    )
    assert (lines["done"].horizon_hours, lines["done"].period_hours) == (8.0, 0.5)
    assert (lines["open"].realized_amount, lines["open"].period_hours) == (None, None)
    assert lines["done"].status == "verified" and lines["open"].status == "pending"

    totals = {t.agent: t for t in ledger.savings_totals()}
    spc = totals["spc_drift"]
    assert (spc.estimated_total, spc.estimated_verified_total, spc.realized_total) == (
        Decimal("140.00"),
        Decimal("100.00"),
        Decimal("61.25"),
    )
    assert (spc.proposals, spc.verified, spc.currency) == (2, 1, "EUR")
    assert (totals["energy"].estimated_total, totals["energy"].realized_total) == (
        Decimal("7.00"),
        Decimal("0.00"),
    )


def test_list_proposals_filters_and_orders_newest_first(
    ledger: Ledger, make_proposal: MakeProposal
) -> None:
    for i in range(4):
        proposal = make_proposal(f"p{i}", node_id=f"n{i}", created_at=T0 + timedelta(minutes=i))
        ledger.record_proposal(proposal, run_id=None, expires_at=EXPIRES)
    ledger.set_status("p1", "expired", actor="ttl", detail="not decided within 1 h")
    ledger.set_status("p1", "expired", actor="ttl")  # no-op
    assert [v.id for v in ledger.list_proposals()] == ["p3", "p2", "p1", "p0"]
    assert [v.id for v in ledger.list_proposals("pending", limit=2)] == ["p3", "p2"]
    assert [v.id for v in ledger.list_proposals(ProposalStatus.EXPIRED)] == ["p1"]
    assert ledger.open_proposal_for("n1") is None
    assert ledger.audit_events(subject="p1")[0].details == {
        "from": "pending",
        "to": "expired",
        "detail": "not decided within 1 h",
    }


def test_failed_action_marks_the_proposal_failed(
    ledger: Ledger, make_proposal: MakeProposal
) -> None:
    proposal = make_proposal()
    ledger.record_proposal(proposal, run_id=None, expires_at=EXPIRES)
    _approve(ledger, proposal)
    _execute(ledger, proposal, status="failed")
    assert ledger.get_proposal(proposal.proposal_id).status == "failed"  # type: ignore[union-attr]
    with pytest.raises(LedgerError, match="only be recorded after its action was executed"):
        ledger.record_realized(proposal.proposal_id, _realized(), baseline=_baseline())


def test_a_second_action_for_the_same_proposal_is_refused(
    ledger: Ledger, make_proposal: MakeProposal
) -> None:
    proposal = make_proposal()
    ledger.record_proposal(proposal, run_id=None, expires_at=EXPIRES)
    _execute(ledger, proposal)
    with pytest.raises(LedgerError, match="already has action prop-1-act"):
        ledger.record_action(
            proposal.proposal_id,
            proposal.action.model_copy(update={"action_id": "another"}),
            read_back=2.0,
            status="executed",
            executed_at=T0,
        )


def test_realized_in_another_currency_is_refused(
    ledger: Ledger, make_proposal: MakeProposal
) -> None:
    proposal = make_proposal()
    ledger.record_proposal(proposal, run_id=None, expires_at=EXPIRES)
    _execute(ledger, proposal)
    with pytest.raises(LedgerError, match="is in USD but its estimate is in EUR"):
        ledger.record_realized(
            proposal.proposal_id, _realized(currency="USD"), baseline=_baseline()
        )


def test_unknown_ids_and_bad_input(ledger: Ledger, make_proposal: MakeProposal) -> None:
    assert ledger.get_proposal("nope") is None
    assert ledger.get_action("nope") is None
    with pytest.raises(ProposalNotFound, match="no proposal 'nope'"):
        ledger.set_status("nope", "expired", actor="ttl")
    with pytest.raises(ProposalNotFound):
        _execute(ledger, make_proposal("nope"))
    with pytest.raises(ProposalNotFound):
        ledger.record_realized("nope", _realized(), baseline=_baseline())
    ledger.record_proposal(make_proposal(), run_id=None, expires_at=EXPIRES)
    with pytest.raises(LedgerError, match="unknown proposal status 'done'"):
        ledger.set_status("prop-1", "done", actor="me")
    with pytest.raises(LedgerError, match="unknown proposal status"):
        ledger.list_proposals("done")
    with pytest.raises(LedgerError, match="is naive"):
        ledger.record_proposal(make_proposal("p2"), run_id=None, expires_at=datetime(2025, 1, 1))
    assert ledger.get_proposal("p2") is None


def test_concurrent_duplicates_are_recorded_once(
    ledger: Ledger, make_proposal: MakeProposal
) -> None:
    proposal = make_proposal()
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda _: ledger.record_proposal(proposal, run_id=None, expires_at=EXPIRES),
                range(4),
            )
        )
    assert sorted(results) == [False, False, False, True]
    assert len(ledger.audit_events(subject=proposal.proposal_id)) == 1
    assert ledger.audit_report().ok

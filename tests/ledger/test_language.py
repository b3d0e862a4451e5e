"""The language layer's records in the ledger: model calls priced exactly, explanations kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from factory_agents.agent import Proposal
from factory_agents.ledger import Ledger
from factory_agents.llm.cost import UsageRecord, summarize
from factory_agents.llm.explain import ExplanationRejection, deterministic_explanation

MakeProposal = Callable[..., Proposal]
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def call(
    call_id: str, *, task_id: str, cost: str, ok: bool = True, task_ok: bool = True
) -> UsageRecord:
    """One model call for the explain task."""
    return UsageRecord(
        call_id=call_id, task_id=task_id, task="explain", model="openai:gpt-4o-mini",
        input_tokens=1200, output_tokens=300, usage_reported=True, cost=Decimal(cost),
        currency="USD", latency_seconds=1.5, call_ok=ok, task_ok=task_ok,
        error="" if ok else "timeout", at=T0,
    )  # fmt: skip


def test_model_calls_are_kept_exactly_and_once(ledger: Ledger) -> None:
    calls = [
        call("c1", task_id="t1", cost="0.00036000", ok=False, task_ok=True),
        call("c2", task_id="t1", cost="0.00012345"),
        call("c3", task_id="t2", cost="0.00000001", task_ok=False),
    ]
    ledger.record_usage(calls)
    ledger.record_usage(calls[1:])  # again: nothing doubles
    stored = [UsageRecord.model_validate(row) for row in ledger.usage()]
    assert sorted(r.call_id for r in stored) == ["c1", "c2", "c3"]
    assert {r.call_id: r.cost for r in stored} == {
        "c1": Decimal("0.00036000"), "c2": Decimal("0.00012345"), "c3": Decimal("0.00000001")
    }  # fmt: skip
    (line,) = summarize(stored)
    assert (line.tasks, line.successful_tasks, line.calls, line.failed_calls) == (2, 1, 3, 1)
    assert line.cost == Decimal("0.00048346")
    assert line.cost_per_successful_task == Decimal("0.00048346")
    assert ledger.usage(since=T0 + timedelta(seconds=1)) == []


def test_explanations_are_kept_per_content_and_refusals_audited(
    ledger: Ledger, make_proposal: MakeProposal
) -> None:
    proposal = make_proposal()
    ledger.record_proposal(proposal, run_id=None, expires_at=T0 + timedelta(hours=1))
    plain = deterministic_explanation(proposal)
    ledger.record_explanation(plain)
    assert ledger.explanation(proposal.proposal_id, proposal.content_hash()) == plain.model_dump(
        mode="json"
    )
    assert ledger.explanation(proposal.proposal_id, "0" * 64) is None

    refused = ExplanationRejection(
        model="openai:gpt-4o-mini", reason="cites 612", unsupported_numbers=["612"]
    )
    ledger.record_explanation(deterministic_explanation(proposal, [refused]))
    stored = ledger.explanation(proposal.proposal_id, proposal.content_hash())
    assert stored is not None and stored["rejections"][0]["unsupported_numbers"] == ["612"]
    (event,) = [
        e for e in ledger.audit_events(proposal.proposal_id) if e.action == "explanation.rejected"
    ]
    assert event.details["rejections"][0]["reason"] == "cites 612"
    assert ledger.audit_report().ok

"""The Approvals page lists pending proposals with their evidence and delivers decisions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import dashboards.actions
from factory_agents.errors import FactoryAgentsError, ProposalNotPending
from factory_agents.ledger import Ledger
from factory_agents.settings import Settings
from workflows.client import DecisionOutcome

from .board import chart_frames, chart_spec, charts, open_approvals
from .conftest import BOARD_USER, PENDING_ORDER, SEEDS


@dataclass
class RecordingDecide:
    """Stands in for workflows.client.send_decision: records calls, answers or raises."""

    error: FactoryAgentsError | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(
        self,
        settings: Settings,
        proposal_id: str,
        *,
        approve: bool,
        user: str,
        reason: str,
        proposal_hash: str | None = None,
    ) -> DecisionOutcome:
        self.calls.append(
            {
                "ledger_url": settings.ledger_url,
                "proposal_id": proposal_id,
                "approve": approve,
                "user": user,
                "reason": reason,
                "proposal_hash": proposal_hash,
            }
        )
        if self.error is not None:
            raise self.error
        decision = "approve" if approve else "reject"
        status = "approved" if approve else "rejected"
        return DecisionOutcome(
            proposal_id=proposal_id,
            decision=decision,
            status=status,
            message=f"proposal {proposal_id} {status} by {user}",
        )


@pytest.fixture
def decide(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingDecide]:
    """A recording decide in place of the real Temporal path."""
    recorder = RecordingDecide()
    monkeypatch.setattr(dashboards.actions, "decide", recorder)
    yield recorder


def content_hash(url: str, proposal_id: str) -> str:
    """The content hash the ledger holds for a proposal."""
    with Ledger.open(url) as ledger:
        view = ledger.get_proposal(proposal_id)
    assert view is not None
    return view.content_hash


def title_of(proposal_id: str) -> str:
    """The seeded title of a proposal."""
    return next(seed.title for seed in SEEDS if seed.proposal_id == proposal_id)


def test_lists_only_pending_proposals_largest_saving_first(seeded_url: str) -> None:
    app = open_approvals()

    shown = [subheader.value for subheader in app.subheader]

    assert shown == [title_of(proposal_id) for proposal_id in PENDING_ORDER]
    assert app.header[0].value == "Waiting for a decision (4)"


def test_each_proposal_shows_action_saving_basis_and_time_left(seeded_url: str) -> None:
    app = open_approvals()

    metrics = {metric.label: metric.value for metric in app.metric}
    texts = [markdown.value for markdown in app.markdown]
    formulas = {code.value for code in app.code}

    assert metrics["Set ns=2;s=Line1/p-big/Setpoint"] == "500.5 → 500 g"
    assert [m.value for m in app.metric if m.label == "Estimated saving"] == [
        "300.00 EUR",
        "120.00 EUR",
        "120.00 EUR",
        "50.00 EUR",
    ]
    assert [m.value for m in app.metric if m.label == "Time left to decide"][1] in {
        "9 min",
        "10 min",
    }
    assert "over 24 h" in [caption.value for caption in app.caption]
    assert formulas == {"overfill_g * units_per_hour * horizon_h * cost_per_g"}
    assert "- throughput stays at 1200 units/h" in texts
    assert any("p-big" in text for text in texts)  # the rationale


def test_each_proposal_shows_its_control_chart(seeded_url: str) -> None:
    first, *others = charts(open_approvals())

    spec = chart_spec(first)
    frames = chart_frames(first)
    limits = next(frame for frame in frames if "limit" in frame)
    samples = next(frame for frame in frames if "ewma" in frame)

    assert len(others) == 3
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rule", "line", "circle"]
    assert dict(zip(limits["limit"], limits["value"], strict=True)) == {
        "EWMA LCL": 499.6,
        "EWMA UCL": 500.4,
        "LSL": 498.0,
        "USL": 503.0,
    }
    assert list(samples["signalled"]) == [False, False, False, True, True]
    assert list(samples["ewma"]) == [500.1, 500.2, 500.4, 500.6, 500.8]


def test_decision_without_reason_is_refused(seeded_url: str, decide: RecordingDecide) -> None:
    app = open_approvals()

    app.button(key="approve-p-big").click().run()

    assert decide.calls == []
    (error,) = app.error
    assert "Enter a reason to approve" in error.value
    assert app.subheader[0].value == title_of("p-big")


def test_approve_delivers_the_signed_decision(seeded_url: str, decide: RecordingDecide) -> None:
    app = open_approvals()
    assert app.text_input(key="decision_user").value == BOARD_USER

    app.text_input(key="reason-p-big").input("overfill confirmed at the filler")
    app.button(key="approve-p-big").click().run()

    assert decide.calls == [
        {
            "ledger_url": seeded_url,
            "proposal_id": "p-big",
            "approve": True,
            "user": BOARD_USER,
            "reason": "overfill confirmed at the filler",
            "proposal_hash": content_hash(seeded_url, "p-big"),
        }
    ]
    assert not app.error
    (success,) = app.success
    assert success.value == f"{title_of('p-big')}: proposal p-big approved by {BOARD_USER}"


def test_reject_delivers_the_decision_with_the_name_entered(
    seeded_url: str, decide: RecordingDecide
) -> None:
    app = open_approvals()

    app.text_input(key="decision_user").input("grace").run()
    app.text_input(key="reason-p-small").input("line changeover in 10 minutes")
    app.button(key="reject-p-small").click().run()

    assert decide.calls == [
        {
            "ledger_url": seeded_url,
            "proposal_id": "p-small",
            "approve": False,
            "user": "grace",
            "reason": "line changeover in 10 minutes",
            "proposal_hash": content_hash(seeded_url, "p-small"),
        }
    ]
    (success,) = app.success
    assert success.value.endswith("proposal p-small rejected by grace")


def test_decide_error_is_shown(seeded_url: str, decide: RecordingDecide) -> None:
    decide.error = ProposalNotPending("proposal p-big has expired; nothing was executed")
    app = open_approvals()

    app.text_input(key="reason-p-big").input("looks right")
    app.button(key="approve-p-big").click().run()

    assert len(decide.calls) == 1
    assert not app.success
    (error,) = app.error
    assert error.value == f"{title_of('p-big')}: proposal p-big has expired; nothing was executed"


def test_recent_decisions_are_listed_newest_first(seeded_url: str) -> None:
    history = open_approvals().dataframe[-1]  # above it: each proposal's inputs

    assert list(history.value.columns) == [
        "Decided at (UTC)",
        "Proposal",
        "Agent",
        "Decision",
        "By",
        "Reason",
        "Status now",
    ]
    assert list(history.value["Proposal"]) == [
        title_of(proposal_id)
        for proposal_id in ("p-verified-2", "p-verified-1", "p-executed", "p-rejected")
    ]
    by_title = history.value.set_index("Proposal")
    assert by_title.loc[title_of("p-rejected"), "Decision"] == "reject"
    assert by_title.loc[title_of("p-verified-1"), "Status now"] == "verified"
    assert by_title.loc[title_of("p-executed"), "Reason"] == "approve p-executed"
    assert set(by_title["By"]) == {"bob"}


def test_empty_queue_explains_what_will_appear(ledger_url: str) -> None:
    app = open_approvals()

    (info,) = app.info
    assert info.value.startswith("No proposal is waiting for a decision.")
    assert not charts(app)

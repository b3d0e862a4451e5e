"""The Approvals page lists pending proposals with their evidence and delivers decisions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import pytest

import dashboards.actions
from dashboards.approvals_page import PAGE_KEY, PAGE_SIZE
from dashboards.data import forget_cached_queries
from factory_agents.errors import FactoryAgentsError, ProposalNotPending
from factory_agents.ledger import Ledger
from factory_agents.settings import Settings
from tests.factories import build_proposal
from tests.identity.helpers import FakeClock
from workflows.client import DecisionOutcome

from .board import chart_frames, chart_spec, charts, checked, open_approvals
from .conftest import BOARD_USER, PASSWORD, PENDING_ORDER, SEEDS


@dataclass
class RecordingDecide:
    """Stands in for workflows.decisions.decide (sign and send): records calls, answers."""

    error: FactoryAgentsError | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(
        self,
        settings: Settings,
        *,
        proposal_id: str,
        meaning: Literal["approve", "reject"],
        user_id: str,
        password: str,
        reason: str,
        proposal_hash: str,
    ) -> DecisionOutcome:
        self.calls.append(
            {
                "ledger_url": settings.ledger_url,
                "proposal_id": proposal_id,
                "meaning": meaning,
                "user": user_id,
                "password": password,
                "reason": reason,
                "proposal_hash": proposal_hash,
            }
        )
        if self.error is not None:
            raise self.error
        status = "approved" if meaning == "approve" else "rejected"
        return DecisionOutcome(
            proposal_id=proposal_id,
            decision=meaning,
            status=status,
            message=f"proposal {proposal_id} {status} by {user_id}",
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

    texts = [markdown.value for markdown in app.markdown]
    formulas = {code.value for code in app.code}

    assert "**Action:** Set ns=2;s=Line1/p-big/Setpoint 500.5 → 500 g" in texts
    plain_words = [t for t in texts if t.startswith("**In plain words:**")]
    assert len(plain_words) == 4, "every proposal is explained (without a model: from its data)"
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


def test_decision_without_password_or_reason_is_refused(
    seeded_url: str, decide: RecordingDecide
) -> None:
    app = open_approvals()

    app.button(key="approve-p-big").click().run()
    (error,) = app.error
    assert "Enter your password to approve" in error.value

    app.text_input(key="decision_password").input(PASSWORD)
    app.button(key="approve-p-big").click().run()
    (error,) = app.error
    assert "Enter a reason to approve" in error.value
    assert decide.calls == []
    assert app.subheader[0].value == title_of("p-big")


def test_approve_delivers_the_signed_decision(seeded_url: str, decide: RecordingDecide) -> None:
    app = open_approvals()
    assert app.text_input(key="decision_user").value == BOARD_USER

    app.text_input(key="decision_password").input(PASSWORD)
    app.text_input(key="reason-p-big").input("overfill confirmed at the filler")
    app.button(key="approve-p-big").click().run()

    assert decide.calls == [
        {
            "ledger_url": seeded_url,
            "proposal_id": "p-big",
            "meaning": "approve",
            "user": BOARD_USER,
            "password": PASSWORD,
            "reason": "overfill confirmed at the filler",
            "proposal_hash": content_hash(seeded_url, "p-big"),
        }
    ]
    assert not app.error
    (success,) = app.success
    assert success.value == f"{title_of('p-big')}: proposal p-big approved by {BOARD_USER}"
    assert app.text_input(key="decision_password").value == "", "asked again for the next one"


def test_reject_is_signed_by_the_user_signed_in_to_the_session(
    seeded_url: str, decide: RecordingDecide
) -> None:
    app = open_approvals(as_user="grace")
    assert app.text_input(key="decision_user").value == "grace"

    app.text_input(key="decision_password").input(PASSWORD)
    app.text_input(key="reason-p-small").input("line changeover in 10 minutes")
    app.button(key="reject-p-small").click().run()

    assert decide.calls == [
        {
            "ledger_url": seeded_url,
            "proposal_id": "p-small",
            "meaning": "reject",
            "user": "grace",
            "password": PASSWORD,
            "reason": "line changeover in 10 minutes",
            "proposal_hash": content_hash(seeded_url, "p-small"),
        }
    ]
    (success,) = app.success
    assert success.value.endswith("proposal p-small rejected by grace")


def test_decide_error_is_shown(seeded_url: str, decide: RecordingDecide) -> None:
    decide.error = ProposalNotPending("proposal p-big has expired; nothing was executed")
    app = open_approvals()

    app.text_input(key="decision_password").input(PASSWORD)
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


def test_a_proposal_measured_until_later_says_until_when(ledger_url: str) -> None:
    now = datetime.now(UTC)
    until = now + timedelta(hours=2)
    with Ledger.open(ledger_url) as ledger:
        proposal = build_proposal("p-bearing", created_at=now, line="line1", measure_until=until)
        ledger.record_proposal(proposal, run_id=None, expires_at=now + timedelta(minutes=10))
        ledger.record_proposal(
            build_proposal("p-plain", created_at=now, line="line1", node_id="ns=2;s=Other"),
            run_id=None,
            expires_at=now + timedelta(minutes=10),
        )

    app = open_approvals()

    captions = [c.value for c in app.caption if "measured until" in c.value]
    assert captions == [
        f"Once executed, its realized saving is measured until at least {until:%Y-%m-%d %H:%M}"
        " UTC, as its agent asks."
    ]


def test_the_page_itself_refuses_a_role_that_may_not_decide(seeded_url: str) -> None:
    app = open_approvals(as_user="mona")

    (error,) = app.error
    assert "may not decide proposals" in error.value
    assert not app.subheader and not app.button


def test_a_decision_pressed_after_15_idle_minutes_is_not_delivered(
    seeded_url: str, decide: RecordingDecide, clock: FakeClock
) -> None:
    app = open_approvals()
    app.text_input(key="decision_password").input(PASSWORD)
    app.text_input(key="reason-p-big").input("overfill confirmed at the filler")
    clock.advance(timedelta(minutes=16))

    app.button(key="approve-p-big").click().run()

    assert decide.calls == [], "nothing is signed for a locked session"
    assert "decision_password" not in app.session_state


def long_queue(url: str, count: int) -> list[str]:
    """`count` pending proposals with savings 100, 99, ...: their ids in queue order."""
    now = datetime.now(UTC)
    ids = [f"p-long-{n:02d}" for n in range(count)]
    with Ledger.open(url) as ledger:
        for n, pid in enumerate(ids):
            proposal = build_proposal(
                pid, created_at=now, line="line1", amount=Decimal(100 - n), title=f"Queue {n:02d}"
            )
            ledger.record_proposal(proposal, run_id=None, expires_at=now + timedelta(minutes=30))
    return ids


def test_a_long_queue_is_listed_whole_and_shown_in_full_a_page_at_a_time(
    ledger_url: str,
) -> None:
    long_queue(ledger_url, 12)

    app = open_approvals()

    assert app.header[0].value == "Waiting for a decision (12)"
    overview = app.dataframe[0]  # above the proposals shown in full
    assert list(overview.value["Proposal"]) == [f"Queue {n:02d}" for n in range(12)]
    assert list(overview.value["Estimated saving"])[:2] == ["100.00 EUR", "99.00 EUR"]
    assert [s.value for s in app.subheader] == [f"Queue {n:02d}" for n in range(PAGE_SIZE)]
    assert len(charts(app)) == PAGE_SIZE, "only the page's evidence is drawn"

    checked(app.number_input(key=PAGE_KEY).set_value(3).run())
    assert [s.value for s in app.subheader] == ["Queue 10", "Queue 11"]
    assert "Showing 11–12 of 12 in full." in [c.value for c in app.caption]


def test_the_page_chosen_follows_a_queue_that_shrank(ledger_url: str) -> None:
    ids = long_queue(ledger_url, 12)
    app = open_approvals()
    checked(app.number_input(key=PAGE_KEY).set_value(3).run())

    with Ledger.open(ledger_url) as ledger:
        for pid in ids[:5]:
            ledger.set_status(pid, "expired", actor="platform", detail="test")
    forget_cached_queries()  # as a decision made on the page does
    checked(app.run())

    assert app.header[0].value == "Waiting for a decision (7)"
    assert app.number_input(key=PAGE_KEY).value == 2
    assert [s.value for s in app.subheader] == ["Queue 10", "Queue 11"]

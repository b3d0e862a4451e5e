"""Approvals page (plant engineers): pending proposals with their evidence, decide, history."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboards import actions, charts, data
from dashboards.formatting import hours, money, time_left
from factory_agents.errors import LedgerError
from factory_agents.ledger import ProposalView

USER_KEY = "decision_user"
FEEDBACK_KEY = "decision_feedback"
NOTHING_PENDING = (
    "No proposal is waiting for a decision. When an agent proposes an action that policy "
    "wants a person to approve, it appears here with its evidence and estimated saving, "
    "largest saving first, until it expires."
)


def reason_key(proposal_id: str) -> str:
    """Widget key of the reason field of one proposal."""
    return f"reason-{proposal_id}"


def record_decision(view: ProposalView, approve: bool) -> None:
    """Button callback: deliver the decision with the reason and name entered, keep the outcome."""
    feedback = actions.submit_decision(
        view.id,
        approve=approve,
        user=str(st.session_state.get(USER_KEY, "")),
        reason=str(st.session_state.get(reason_key(view.id), "")),
        proposal_hash=view.content_hash,
    )
    st.session_state[FEEDBACK_KEY] = (view.title, feedback)
    if feedback.succeeded:
        data.forget_cached_queries()


def show_feedback() -> None:
    """What became of the last decision made on this page."""
    last = st.session_state.get(FEEDBACK_KEY)
    if last is None:
        return
    title, feedback = last
    if feedback.succeeded:
        st.success(f"{title}: {feedback.message}")
    else:
        st.error(f"{title}: {feedback.message}")


def show_saving_basis(view: ProposalView) -> None:
    """The estimate's formula, inputs and assumptions."""
    estimate = view.proposal.estimated_saving
    st.markdown("**Formula**")
    st.code(estimate.formula, language=None)
    st.markdown("**Inputs**")
    st.dataframe(
        pd.DataFrame({"input": list(estimate.inputs), "value": list(estimate.inputs.values())}),
        hide_index=True,
    )
    st.markdown("**Assumptions**")
    st.markdown("\n".join(f"- {assumption}" for assumption in estimate.assumptions) or "none")


def show_decision_form(view: ProposalView) -> None:
    """A reason field with Approve and Reject buttons for one proposal."""
    with st.form(f"decide-{view.id}", border=False):
        st.text_input(
            "Reason (required, kept with your decision)",
            key=reason_key(view.id),
            placeholder="Why approve or reject this change?",
        )
        approve, reject, _ = st.columns([1, 1, 4])
        with approve:
            st.form_submit_button(
                "Approve",
                key=f"approve-{view.id}",
                type="primary",
                on_click=record_decision,
                args=(view, True),
            )
        with reject:
            st.form_submit_button(
                "Reject", key=f"reject-{view.id}", on_click=record_decision, args=(view, False)
            )


def show_proposal(view: ProposalView, now: datetime) -> None:
    """One pending proposal: what, why, the action, its estimated saving, evidence and decision."""
    proposal = view.proposal
    action = proposal.action
    estimate = proposal.estimated_saving
    with st.container(border=True):
        st.subheader(view.title)
        st.caption(
            f"{view.agent} · line {view.line} · proposed "
            f"{view.created_at.strftime('%Y-%m-%d %H:%M:%S')} UTC · id {view.id}"
        )
        st.write(proposal.rationale)
        change, saving, left = st.columns(3)
        change.metric(
            f"Set {action.node_id}", f"{action.from_value:g} → {action.to_value:g} {action.unit}"
        )
        saving.metric(
            "Estimated saving",
            money(estimate.amount, estimate.currency),
            help=f"Predicted over the next {hours(estimate.horizon_hours)}; not yet realized.",
        )
        saving.caption(f"over {hours(estimate.horizon_hours)}")
        left.metric("Time left to decide", time_left(view.expires_at - now))
        with st.expander("How the saving is estimated"):
            show_saving_basis(view)
        st.altair_chart(charts.control_chart(proposal.evidence), width="stretch")
        show_decision_form(view)


def decision_table(entries: list[data.DecisionEntry]) -> pd.DataFrame:
    """Recent decisions, newest first, with where each proposal stands now."""
    return pd.DataFrame(
        {
            "Decided at (UTC)": [e.decided_at.strftime("%Y-%m-%d %H:%M:%S") for e in entries],
            "Proposal": [e.title for e in entries],
            "Agent": [e.agent for e in entries],
            "Decision": [e.decision for e in entries],
            "By": [e.user for e in entries],
            "Reason": [e.reason for e in entries],
            "Status now": [e.status for e in entries],
        }
    )


@st.fragment(run_every=data.REFRESH_SECONDS)
def live_queue() -> None:
    """The approval queue and the decision history, refreshed from the ledger every few seconds."""
    show_feedback()
    url = data.ledger_url()
    try:
        pending = data.pending_proposals(url)
        history = data.recent_decisions(url)
    except LedgerError as err:
        st.error(str(err))
        return
    st.header(f"Waiting for a decision ({len(pending)})")
    if not pending:
        st.info(NOTHING_PENDING)
    now = datetime.now(UTC)
    for view in pending:
        show_proposal(view, now)
    st.header("Recent decisions")
    if history:
        st.dataframe(decision_table(history), hide_index=True, width="stretch")
    else:
        st.caption("No decisions yet.")


def show_approvals_page() -> None:
    """The Approvals page: who signs, then the live queue and history."""
    st.title("Approvals")
    st.caption(
        "Each proposal shows its evidence and estimated saving. Your decision is signed with "
        "your name and kept, with its reason, in the audit trail."
    )
    st.text_input("Signed as", value=os.environ.get("FACTORY_USER", "engineer"), key=USER_KEY)
    live_queue()

"""Approvals page (plant engineers): pending proposals with their evidence, decide, history."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboards import actions, data, session
from dashboards.evidence_charts import evidence_chart
from dashboards.formatting import hours, money, time_left
from factory_agents.errors import LedgerError
from factory_agents.evidence import Evidence
from factory_agents.identity import Permission
from factory_agents.identity.signing import REASON_MAX_CHARS
from factory_agents.ledger import ProposalView

USER_KEY = "decision_user"
PASSWORD_KEY = "decision_password"
FEEDBACK_KEY = "decision_feedback"
PAGE_KEY = "queue_page"
PAGE_SIZE = 5
"""Proposals shown in full (evidence, explanation, decision form) at once; the rest are listed."""
NOTHING_PENDING = (
    "No proposal is waiting for a decision. When an agent proposes an action that policy "
    "wants a person to approve, it appears here with its evidence and estimated saving, "
    "largest saving first, until it expires."
)


def reason_key(proposal_id: str) -> str:
    """Widget key of the reason field of one proposal."""
    return f"reason-{proposal_id}"


def record_decision(view: ProposalView, approve: bool) -> None:
    """Button callback: deliver the signed-in user's decision with the reason, keep the outcome."""
    user = session.current_user()  # locks an idle session before anything is signed
    if user is None:
        return
    session.touch()
    feedback = actions.submit_decision(
        view.id,
        approve=approve,
        user=user.id,
        password=str(st.session_state.get(PASSWORD_KEY, "")),
        reason=str(st.session_state.get(reason_key(view.id), "")),
        proposal_hash=view.content_hash,
    )
    st.session_state[PASSWORD_KEY] = ""  # asked again for every signature
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


def show_explanation(view: ProposalView) -> None:
    """The proposal explained in plain words: stored by the platform, else built from its data."""
    from factory_agents.llm.explain import Explanation, deterministic_explanation

    stored = data.stored_explanation(data.ledger_url(), view.id, view.content_hash)
    explanation = (
        Explanation.model_validate(stored)
        if stored is not None
        else deterministic_explanation(view.proposal)
    )
    st.markdown(f"**In plain words:** {explanation.summary}")
    with st.expander(f"Explanation ({explanation.label})"):
        st.markdown(explanation.as_markdown())


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
            max_chars=REASON_MAX_CHARS,
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
    estimate = proposal.estimated_saving
    with st.container(border=True):
        st.subheader(view.title)
        st.caption(
            f"{view.agent} · line {view.line} · proposed "
            f"{view.created_at.strftime('%Y-%m-%d %H:%M:%S')} UTC · id {view.id}"
        )
        if view.status == "shadowed":
            st.warning(
                "Shadow proposal: its agent is in shadow mode. Say what you would do; nothing"
                " will be executed, and your answer builds the agent's track record."
            )
        if view.decisions:
            signed = ", ".join(f"{d.decision}d by {d.full_name or d.user}" for d in view.decisions)
            st.info(f"Signed so far: {signed}. Another engineer must sign before it executes.")
        st.write(proposal.rationale)
        st.markdown(f"**Action:** {proposal.action.describe()}")
        if proposal.measure_until is not None:
            st.caption(
                "Once executed, its realized saving is measured until at least"
                f" {proposal.measure_until:%Y-%m-%d %H:%M} UTC, as its agent asks."
            )
        saving, left = st.columns(2)
        saving.metric(
            "Estimated saving",
            money(estimate.amount, estimate.currency),
            help=f"Predicted over the next {hours(estimate.horizon_hours)}; not yet realized.",
        )
        saving.caption(f"over {hours(estimate.horizon_hours)}")
        left.metric("Time left to decide", time_left(view.expires_at - now))
        show_explanation(view)
        with st.expander("How the saving is estimated"):
            show_saving_basis(view)
        show_evidence(proposal.evidence)
        show_decision_form(view)


def show_evidence(evidence: Evidence) -> None:
    """The proposal's evidence as a chart, or as a table when it is one."""
    drawn = evidence_chart(evidence)
    if isinstance(drawn, pd.DataFrame):
        st.markdown(f"**{getattr(evidence, 'title', 'Evidence')}**")
        st.dataframe(drawn, hide_index=True, width="stretch")
    else:
        st.altair_chart(drawn, width="stretch")


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


def queue_table(pending: list[ProposalView], now: datetime) -> pd.DataFrame:
    """Every waiting proposal in one line each, in queue order."""
    return pd.DataFrame(
        {
            "#": range(1, len(pending) + 1),
            "Proposal": [v.title for v in pending],
            "Agent": [v.agent for v in pending],
            "Line": [v.line for v in pending],
            "Estimated saving": [money(v.estimated_amount, v.currency) for v in pending],
            "Time left": [time_left(v.expires_at - now) for v in pending],
        }
    )


def queue_page(pending: list[ProposalView], now: datetime) -> list[ProposalView]:
    """The proposals to show in full: all of a short queue; of a long one, the page chosen
    below a one-line-each list of the whole queue (so the page stays fast however long it is)."""
    if len(pending) <= PAGE_SIZE:
        return pending
    st.dataframe(queue_table(pending, now), hide_index=True, width="stretch")
    pages = -(-len(pending) // PAGE_SIZE)
    if int(st.session_state.get(PAGE_KEY, 1)) > pages:  # the queue shrank since it was chosen
        st.session_state[PAGE_KEY] = pages
    page = int(
        st.number_input(
            f"Page (of {pages}, {PAGE_SIZE} proposals each)",
            min_value=1,
            max_value=pages,
            step=1,
            key=PAGE_KEY,
        )
    )
    first = (page - 1) * PAGE_SIZE
    shown = pending[first : first + PAGE_SIZE]
    st.caption(f"Showing {first + 1}–{first + len(shown)} of {len(pending)} in full.")
    return shown


@st.fragment(run_every=data.REFRESH_SECONDS)
def live_queue() -> None:
    """The approval queue and the decision history, refreshed from the ledger every few seconds."""
    if not session.live_part_allowed():
        return
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
    for view in queue_page(pending, now):
        show_proposal(view, now)
    st.header("Recent decisions")
    if history:
        st.dataframe(decision_table(history), hide_index=True, width="stretch")
    else:
        st.caption("No decisions yet.")


def show_approvals_page() -> None:
    """The Approvals page: who signs, then the live queue and history."""
    user = session.require(Permission.DECIDE_PROPOSALS)
    st.title("Approvals")
    st.caption(
        "Each proposal shows its evidence and estimated saving. Your password signs your "
        "decision: your name, role, the time, your reason and the SHA-256 of the proposal as "
        "shown are kept in the audit trail."
    )
    signer, password = st.columns(2)
    st.session_state[USER_KEY] = user.id
    signer.text_input(
        "Signed as (user id)",
        key=USER_KEY,
        disabled=True,
        help="You sign as the user signed in to this session.",
    )
    password.text_input(
        "Password (asked again for every decision)", type="password", key=PASSWORD_KEY
    )
    live_queue()

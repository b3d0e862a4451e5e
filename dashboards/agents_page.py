"""Agents page: the installed catalog with each agent's domain, risk, autonomy, on/off switch,
track record, last runs and problems; managers switch agents and change their autonomy."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboards import agent_controls, agents_data, data, session
from dashboards.formatting import percent
from dashboards.session import BoardUser
from factory_agents.errors import FactoryAgentsError
from factory_agents.identity import Permission
from factory_agents.ledger.views import AutonomyLevel

FEEDBACK_KEY = "agents_feedback"
NO_AGENTS = (
    "No agent is installed. Agents come as packages registering the `factory_agents.agents`"
    " entry point; `factory-agents agents list` shows what is installed."
)


def reason_key(agent: str, what: str) -> str:
    """Widget key of a manager's reason field for one agent and change."""
    return f"{what}-reason-{agent}"


def password_key(agent: str, what: str) -> str:
    """Widget key of a manager's password field for one agent and change."""
    return f"{what}-password-{agent}"


def ago(moment: datetime | None, now: datetime) -> str:
    """How long ago something happened, the way people say it: `12 s ago`, `3 min ago`."""
    if moment is None:
        return "never"
    seconds = max(int((now - moment).total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172_800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86_400} d ago"


def catalog_table(entries: list[agents_data.CatalogEntry], now: datetime) -> pd.DataFrame:
    """One row per installed agent: what it is and where it stands."""
    return pd.DataFrame(
        {
            "Agent": [e.name for e in entries],
            "Domain": [e.domain for e in entries],
            "Risk": [e.risk for e in entries],
            "Enabled": ["yes" if e.switch.enabled else "no" for e in entries],
            "Autonomy": [str(e.autonomy) for e in entries],
            "Decisions (last 50)": [e.record.decisions for e in entries],
            "Approved": [percent(e.record.approval_rate) for e in entries],
            "Adverse outcomes": [e.record.adverse for e in entries],
            "Proposals": [e.proposals for e in entries],
            "Verified": [e.verified for e in entries],
            "Last run": [
                f"{ago(e.last_run_at, now)} ({e.last_run_status})" if e.last_run_at else "never"
                for e in entries
            ],
        }
    )


def runs_table(runs: list[agents_data.RunEntry]) -> pd.DataFrame:
    """The agent's newest runs: when, status, findings, proposals, and what was skipped why."""
    return pd.DataFrame(
        {
            "Finished (UTC)": [r.finished_at.strftime("%Y-%m-%d %H:%M:%S") for r in runs],
            "Status": [r.status for r in runs],
            "Findings": [r.findings for r in runs],
            "Proposals": [r.proposals for r in runs],
            "Skipped": [
                ", ".join(f"{reason} × {n}" for reason, n in sorted(r.skipped.items())) or "—"
                for r in runs
            ],
            "Message": [r.message for r in runs],
        }
    )


def level_key(agent: str) -> str:
    """Widget key of the autonomy level chosen for one agent."""
    return f"autonomy-level-{agent}"


def record_change(agent: str, what: str, enabled: bool | None) -> None:
    """Form callback: apply a manager's change (a switch, else autonomy) and keep the outcome."""
    user = session.current_user()
    if user is None:
        return
    session.touch()
    password = str(st.session_state.get(password_key(agent, what), ""))
    reason = str(st.session_state.get(reason_key(agent, what), ""))
    st.session_state[password_key(agent, what)] = ""
    url = data.ledger_url()
    if enabled is not None:
        feedback = agent_controls.set_enabled(
            url, user, agent, enabled, password=password, reason=reason
        )
    else:
        level = AutonomyLevel(str(st.session_state.get(level_key(agent), "assisted")))
        feedback = agent_controls.set_autonomy(
            url, user, agent, level, password=password, reason=reason
        )
    st.session_state[FEEDBACK_KEY] = (agent, feedback)
    if feedback.succeeded:
        data.forget_cached_queries()


def show_switch_form(entry: agents_data.CatalogEntry) -> None:
    """Enable or disable the agent: reason and password, one button."""
    enable = not entry.switch.enabled
    what = "switch"
    with st.form(f"switch-{entry.name}", border=False):
        reason, password = st.columns(2)
        reason.text_input("Reason (kept in the audit trail)", key=reason_key(entry.name, what))
        password.text_input("Your password", type="password", key=password_key(entry.name, what))
        st.form_submit_button(
            f"{'Enable' if enable else 'Disable'} {entry.name}",
            key=f"{'enable' if enable else 'disable'}-{entry.name}",
            type="secondary",
            on_click=record_change,
            args=(entry.name, what, enable),
        )


def show_autonomy_form(entry: agents_data.CatalogEntry) -> None:
    """Change the agent's autonomy level: level, reason and password."""
    what = "autonomy"
    with st.form(f"autonomy-{entry.name}", border=False):
        level, reason, password = st.columns(3)
        levels = [str(choice) for choice in AutonomyLevel]
        level.selectbox(
            "Autonomy level",
            levels,
            index=levels.index(str(entry.autonomy)),
            key=level_key(entry.name),
        )
        reason.text_input("Reason (kept in the audit trail)", key=reason_key(entry.name, what))
        password.text_input("Your password", type="password", key=password_key(entry.name, what))
        st.form_submit_button(
            "Set autonomy",
            key=f"set-autonomy-{entry.name}",
            on_click=record_change,
            args=(entry.name, what, None),
        )


def show_agent(entry: agents_data.CatalogEntry, user: BoardUser, url: str) -> None:
    """One agent: description, switch state, last runs, problems, and (managers) controls."""
    with st.container(border=True):
        st.subheader(entry.name)
        st.caption(
            f"{entry.domain} · risk {entry.risk} · version {entry.version} · actions"
            f" {', '.join(entry.actions)} · autonomy {entry.autonomy}"
        )
        st.write(entry.description)
        switch = entry.switch
        if not switch.enabled:
            when = switch.changed_at.strftime("%Y-%m-%d %H:%M") if switch.changed_at else ""
            st.warning(
                f"Disabled by {switch.changed_by} at {when} UTC: {switch.reason}. Its runs"
                " continue, but its proposals are withheld."
            )
        runs = agents_data.recent_runs(url, entry.name)
        st.markdown(f"**Last runs** (newest {agents_data.RECENT_RUNS})")
        if runs:
            st.dataframe(runs_table(runs), hide_index=True, width="stretch")
        else:
            st.caption("No run recorded yet.")
        problems = agents_data.recent_problems(url, entry.name)
        if problems:
            st.markdown("**Failed executions**")
            st.dataframe(
                pd.DataFrame(
                    {
                        "At (UTC)": [p.at.strftime("%Y-%m-%d %H:%M:%S") for p in problems],
                        "Proposal": [p.title for p in problems],
                        "What the action reported": [p.message for p in problems],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
        if user.may(Permission.CONFIGURE_AGENTS):
            show_switch_form(entry)
            show_autonomy_form(entry)


def show_feedback() -> None:
    """What became of the last change made on this page."""
    last = st.session_state.get(FEEDBACK_KEY)
    if last is None:
        return
    agent, feedback = last
    if feedback.succeeded:
        st.success(f"{agent}: {feedback.message}")
    else:
        st.error(f"{agent}: {feedback.message}")


@st.fragment(run_every=data.REFRESH_SECONDS * 2)
def live_agents() -> None:
    """The catalog and each agent's runs, refreshed from the ledger."""
    if not session.live_part_allowed():
        return
    user = session.require()
    show_feedback()
    url = data.ledger_url()
    try:
        entries = agents_data.catalog(url)
        if not entries:
            st.info(NO_AGENTS)
            return
        st.dataframe(catalog_table(entries, datetime.now(UTC)), hide_index=True, width="stretch")
        for entry in entries:
            show_agent(entry, user, url)
    except FactoryAgentsError as err:
        st.error(str(err))


def show_agents_page() -> None:
    """The Agents page: what each agent is, what it did, and (managers) its switches."""
    user = session.require()
    st.title("Agents")
    if user.may(Permission.CONFIGURE_AGENTS):
        st.caption(
            "You may enable or disable an agent and change its autonomy; each change asks for"
            " your password and a reason, and is kept in the audit trail."
        )
    else:
        st.caption(
            "Track record: the last 50 proposals people decided. Managers enable, disable and"
            " change the autonomy of agents."
        )
    live_agents()

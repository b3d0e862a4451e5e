"""The kill switch on the board: stop every agent and hold every execution, or resume, signed.

The same path as `factory-agents stop-all` and `resume`: the user's role must allow it (checked
here, on the server), the password is asked again and a reason is required; the ledger's audit
trail keeps who and why.
"""

from __future__ import annotations

import asyncio

import streamlit as st

from dashboards import data
from dashboards.agent_controls import Feedback
from dashboards.session import BoardUser, users_file
from factory_agents.errors import FactoryAgentsError
from factory_agents.identity import Permission
from factory_agents.settings import Settings
from workflows import control

stop_all = control.stop_all
"""How the board stops the platform (tests put a recording function in its place)."""
resume = control.resume
"""How the board resumes it."""
FEEDBACK_KEY = "kill_switch_feedback"


def switch(user: BoardUser, *, stop: bool, password: str, reason: str) -> Feedback:
    """Stop or resume the platform as `user` (permission, password and reason checked)."""
    permission, doing = (
        (Permission.STOP_ALL, "stop the platform") if stop else (Permission.RESUME, "resume it")
    )
    if not user.may(permission):
        return Feedback(False, f"Your role ({user.role_names}) may not {doing}.")
    if not reason.strip():
        return Feedback(False, f"Enter a reason to {doing}; it is kept in the audit trail.")
    if not password:
        return Feedback(False, f"Enter your password to {doing}; it confirms it is you.")
    try:
        users_file().authenticate(user.id, password)
        act = stop_all if stop else resume
        report = asyncio.run(act(Settings(), actor=user.id, reason=reason.strip()))
    except FactoryAgentsError as err:
        return Feedback(False, str(err))
    if stop:
        return Feedback(True, "Stopped: agents are read-only and executions are held.")
    return Feedback(True, f"Resumed: {report.woken} held proposal(s) woken.")


def _submit(user: BoardUser, stop: bool) -> None:
    """Form callback: switch with what was typed, keep the answer, forget the password."""
    feedback = switch(
        user,
        stop=stop,
        password=str(st.session_state.get("kill_password", "")),
        reason=str(st.session_state.get("kill_reason", "")),
    )
    st.session_state["kill_password"] = ""
    st.session_state[FEEDBACK_KEY] = feedback
    if feedback.succeeded:
        data.forget_cached_queries()


def show_kill_switch(user: BoardUser) -> None:
    """The platform's state and, for roles that may use it, the stop or resume form (sidebar)."""
    try:
        state = data.open_ledger(data.ledger_url()).control()
    except FactoryAgentsError:
        return  # the page says what is wrong with the ledger

    stop = not state.stopped
    if state.stopped:
        st.error(f"Stopped by {state.changed_by}: {state.reason}. Agents are read-only.")
    allowed = user.may(Permission.STOP_ALL if stop else Permission.RESUME)
    if not allowed:
        return
    with (
        st.expander("Kill switch" if stop else "Resume", icon=":material/block:"),
        st.form("kill_switch", border=False),
    ):
        st.text_input("Reason", key="kill_reason")
        st.text_input("Password", type="password", key="kill_password")
        st.form_submit_button(
            "Stop all agents" if stop else "Resume",
            key="kill_switch_submit",
            type="primary",
            on_click=_submit,
            args=(user, stop),
        )
    feedback = st.session_state.pop(FEEDBACK_KEY, None)
    if feedback is not None:
        (st.success if feedback.succeeded else st.error)(feedback.message)

"""Audit page: the hash-chained audit trail, searchable by subject, actor, action and time, a
page at a time, with the chain's status from its verification."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import streamlit as st

from dashboards import audit_data, data, session
from factory_agents.errors import FactoryAgentsError
from factory_agents.identity import Permission
from factory_agents.ledger import AuditEntry

CURSOR_KEY = "audit_cursor"
"""The seq numbers each shown page started below (a stack; empty: the newest page)."""
VERIFY_KEY = "audit_verify"
FILTER_KEYS = ("audit_subject", "audit_actor", "audit_action", "audit_from", "audit_to")


def day_start(day: object) -> datetime | None:
    """Midnight UTC at the start of `day`, or None when no day is chosen."""
    if not isinstance(day, date):
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def current_search() -> audit_data.AuditSearch:
    """The search the filter fields describe (the To day is included)."""
    until = day_start(st.session_state.get("audit_to"))
    return audit_data.AuditSearch(
        subject=str(st.session_state.get("audit_subject") or ""),
        actor=str(st.session_state.get("audit_actor") or ""),
        action=str(st.session_state.get("audit_action") or ""),
        since=day_start(st.session_state.get("audit_from")),
        until=until + timedelta(days=1) if until is not None else None,
    )


def restart_paging() -> None:
    """Filter callback: show the newest matching events again."""
    session.touch()
    st.session_state[CURSOR_KEY] = []


def older(before: int) -> None:
    """Button callback: show the page of events older than seq `before`."""
    session.touch()
    st.session_state[CURSOR_KEY] = [*st.session_state.get(CURSOR_KEY, []), before]


def newer() -> None:
    """Button callback: back to the page shown before."""
    session.touch()
    st.session_state[CURSOR_KEY] = list(st.session_state.get(CURSOR_KEY, []))[:-1]


def ask_verification() -> None:
    """Button callback: verify a long chain now."""
    session.touch()
    st.session_state[VERIFY_KEY] = True


def events_table(events: list[AuditEntry]) -> pd.DataFrame:
    """One row per event: seq, time, actor, action, subject, details, hash prefix."""
    return pd.DataFrame(
        {
            "Seq": [e.seq for e in events],
            "At (UTC)": [e.at.strftime("%Y-%m-%d %H:%M:%S") for e in events],
            "Actor": [e.actor for e in events],
            "Action": [e.action for e in events],
            "Subject": [e.subject for e in events],
            "Details": [json.dumps(e.details, sort_keys=True) for e in events],
            "Hash": [e.hash[:12] for e in events],
        }
    )


def show_chain_status(url: str) -> None:
    """The chain's verification: automatic for short trails, on request for long ones."""
    events = audit_data.event_count(url)
    if events > audit_data.AUTO_VERIFY_EVENTS and not st.session_state.get(VERIFY_KEY):
        st.info(
            f"The trail holds {events:,} events; verifying reads every one of them."
            " Press the button to verify it now (or run `factory-agents audit verify`)."
        )
        st.button("Verify the chain now", key="verify_chain", on_click=ask_verification)
        return
    with st.spinner(f"Verifying {events:,} events ..."):
        report = audit_data.chain_report(url, events)
    if report.ok:
        st.success(
            f"Chain intact: {report.events:,} events verified, head hash {report.head_hash[:16]}…"
        )
    else:
        problems = "\n".join(f"- {problem}" for problem in report.problems[:20])
        st.error(f"The chain is broken ({len(report.problems)} problems):\n{problems}")


def show_filters() -> None:
    """Subject, actor, action and a day range; changing one shows the newest matches."""
    with st.container(border=True):
        subject, actor, action, since, until = st.columns([3, 2, 2, 2, 2])
        subject.text_input(
            "Subject starts with", key="audit_subject", on_change=restart_paging,
            placeholder="a proposal id, run id, agent, platform",
        )  # fmt: skip
        actor.text_input("Actor (exactly)", key="audit_actor", on_change=restart_paging)
        action.text_input(
            "Action starts with", key="audit_action", on_change=restart_paging,
            placeholder="proposal., agent.disabled",
        )  # fmt: skip
        since.date_input("From (UTC day)", value=None, key="audit_from", on_change=restart_paging)
        until.date_input("To (UTC day)", value=None, key="audit_to", on_change=restart_paging)


@st.fragment(run_every=data.REFRESH_SECONDS * 2)
def live_log() -> None:
    """The matching events, a page at a time; the newest page refreshes itself."""
    if not session.live_part_allowed():
        return
    url = data.ledger_url()
    cursor = list(st.session_state.get(CURSOR_KEY, []))
    before = cursor[-1] if cursor else None
    try:
        page = audit_data.search(url, current_search(), before)
    except FactoryAgentsError as err:
        st.error(str(err))
        return
    where = "newest" if before is None else f"older than seq {before}"
    st.markdown(f"**Events** ({where}, {audit_data.PAGE_SIZE} per page)")
    if page.events:
        st.dataframe(events_table(page.events), hide_index=True, width="stretch")
    else:
        st.caption("No event matches.")
    back, forward, _ = st.columns([1, 1, 6])
    back.button("Newer", key="audit_newer", disabled=not cursor, on_click=newer)
    if page.more and page.events:
        forward.button("Older", key="audit_older", on_click=older, args=(page.events[-1].seq,))


def show_audit_page() -> None:
    """The Audit page: chain status, filters, the matching events."""
    session.require(Permission.VIEW_AUDIT)
    st.title("Audit")
    st.caption(
        "Every proposal, decision, action, saving and change of control, append-only and"
        " hash-chained: each event's hash covers the one before it."
    )
    url = data.ledger_url()
    try:
        show_chain_status(url)
    except FactoryAgentsError as err:
        st.error(str(err))
    show_filters()
    live_log()

"""Savings page (managers): estimated and realized savings per agent, over time, per proposal."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data
from dashboards.formatting import hours, money
from factory_agents.errors import LedgerError
from factory_agents.ledger import SavingsLine

EMPTY_LEDGER = (
    "No savings recorded yet. When an agent proposes an action, its **estimated** saving "
    "appears here with the horizon it covers. Once an engineer approves the action on the "
    "Approvals page and the platform has measured its effect over the verification window, "
    "the **realized** saving appears next to it, per agent and over time."
)
NOTHING_REALIZED = (
    "Nothing realized yet: realized savings appear once an approved action has been executed "
    "and its effect measured against the baseline recorded before acting."
)


def show_headline(total: data.CurrencyTotals) -> None:
    """Estimated total, realized total, realization rate and verified count, in one currency."""
    estimated, realized, rate, verified = st.columns(4)
    estimated.metric(
        f"Estimated saving ({total.currency})",
        money(total.estimated, total.currency),
        help="Sum of every proposal's estimated saving over its own horizon, decided or not.",
    )
    realized.metric(
        f"Realized saving ({total.currency})",
        money(total.realized, total.currency),
        help="Sum of the savings measured after acting, against the baseline recorded before.",
    )
    rate.metric(
        "Realization rate",
        "—" if total.realization_rate is None else f"{total.realization_rate:.0%}",
        help="Realized saving per hour over estimated saving per hour, verified proposals only.",
    )
    verified.metric(
        "Proposals verified",
        f"{total.verified} of {total.proposals}",
        help="Proposals whose realized saving has been measured.",
    )


def show_agents_chart(rates: list[data.AgentRates], currency: str) -> None:
    """Estimated next to realized saving per hour for each agent, in one currency."""
    rows = [
        {"agent": rate.agent, "kind": kind, "amount": amount}
        for rate in rates
        if rate.currency == currency
        for kind, amount in (
            ("Estimated", rate.estimated_per_hour),
            ("Realized", rate.realized_per_hour),
        )
    ]
    if not rows:
        st.info(NOTHING_REALIZED)
        return
    st.altair_chart(charts.savings_by_agent(pd.DataFrame(rows), currency), width="stretch")


def show_cumulative(points: list[data.RealizedPoint], currency: str) -> None:
    """The realized saving accumulated over time, in one currency."""
    frame = pd.DataFrame(
        {
            "recorded_at": pd.to_datetime([point.recorded_at for point in points], utc=True),
            "cumulative": [float(point.cumulative) for point in points],
        }
    )
    if frame.empty:
        st.info(NOTHING_REALIZED)
        return
    st.altair_chart(charts.cumulative_realized(frame, currency), width="stretch")


def proposal_table(lines: list[SavingsLine]) -> pd.DataFrame:
    """One row per proposal: estimated saving with its horizon, realized with its period."""
    return pd.DataFrame(
        {
            "Proposal": [line.title for line in lines],
            "Agent": [line.agent for line in lines],
            "Status": [line.status for line in lines],
            "Proposed at (UTC)": [line.created_at.strftime("%Y-%m-%d %H:%M") for line in lines],
            "Estimated saving": [
                f"{money(line.estimated_amount, line.currency)} over {hours(line.horizon_hours)}"
                for line in lines
            ],
            "Realized saving": [
                "not measured yet"
                if line.realized_amount is None or line.period_hours is None
                else f"{money(line.realized_amount, line.currency)} over {hours(line.period_hours)}"
                for line in lines
            ],
        }
    )


@st.fragment(run_every=data.REFRESH_SECONDS)
def live_savings() -> None:
    """Headline numbers, charts and the table, refreshed from the ledger every few seconds."""
    url = data.ledger_url()
    try:
        totals = data.currency_totals(url)
        per_agent = data.hourly_rates(url)
        points = data.cumulative_realized(url)
        lines = data.proposal_savings(url)
    except LedgerError as err:
        st.error(str(err))
        return
    if not totals:
        st.info(EMPTY_LEDGER)
        return
    for total in totals:
        if len(totals) > 1:
            st.subheader(total.currency)
        show_headline(total)
        by_agent, over_time = st.columns(2)
        with by_agent:
            st.markdown(
                "**Saving per hour per agent** (verified proposals: estimated over its horizon,"
                " realized over its verification window)"
            )
            show_agents_chart(per_agent, total.currency)
        with over_time:
            st.markdown("**Cumulative realized saving**")
            show_cumulative([p for p in points if p.currency == total.currency], total.currency)
    st.markdown(f"**Proposals** (newest {data.TABLE_ROWS} at most)")
    st.dataframe(proposal_table(lines), hide_index=True, width="stretch")


def show_savings_page() -> None:
    """The Savings page: what it shows, then its live part."""
    st.title("Savings")
    st.caption(
        "Estimated savings are predictions made before acting; realized savings are measured "
        "after acting. The two are shown side by side and never added together."
    )
    live_savings()

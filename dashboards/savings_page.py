"""Savings page (managers): estimated and realized savings per agent, domain, line and month,
over time and per proposal, what the language models cost, and a CSV export."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import charts, data, savings_data, session
from dashboards.copilot_page import show_cost_summaries
from dashboards.formatting import hours, money, percent
from factory_agents.errors import FactoryAgentsError, LedgerError
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
GROUPINGS: dict[str, savings_data.Grouping] = {
    "Agent": "agent",
    "Domain": "domain",
    "Line": "line",
    "Month": "month",
}
GROUPING_KEY = "savings_grouping"


def show_headline(total: savings_data.CurrencyTotals) -> None:
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
        percent(total.realization_rate),
        help="Realized saving per hour over estimated saving per hour, verified proposals only.",
    )
    verified.metric(
        "Proposals verified",
        f"{total.verified} of {total.proposals}",
        help="Proposals whose realized saving has been measured.",
    )


def show_agents_chart(rates: list[savings_data.AgentRates], currency: str) -> None:
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


def show_cumulative(points: list[savings_data.RealizedPoint], currency: str) -> None:
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


def breakdown_table(groups: list[savings_data.SavingsGroup], label: str) -> pd.DataFrame:
    """One row per group and currency: totals kept apart, counts, and the realization rate."""
    return pd.DataFrame(
        {
            label: [g.key for g in groups],
            "Estimated saving": [money(g.estimated, g.currency) for g in groups],
            "Realized saving": [money(g.realized, g.currency) for g in groups],
            "Proposals": [g.proposals for g in groups],
            "Verified": [g.verified for g in groups],
            "Realization rate": [percent(g.realization_rate) for g in groups],
        }
    )


def breakdown_frame(groups: list[savings_data.SavingsGroup], currency: str) -> pd.DataFrame:
    """Long format for the breakdown chart: estimated and realized totals per group."""
    return pd.DataFrame(
        [
            {"group": g.key, "kind": kind, "amount": float(amount)}
            for g in groups
            if g.currency == currency
            for kind, amount in (("Estimated", g.estimated), ("Realized", g.realized))
        ],
        columns=["group", "kind", "amount"],
    )


def chosen_grouping() -> str:
    """The breakdown the manager picked (agent until they pick another)."""
    choice = st.session_state.get(GROUPING_KEY)
    return choice if isinstance(choice, str) and choice in GROUPINGS else "Agent"


def show_breakdown(url: str, currencies: list[str]) -> None:
    """Estimated and realized totals per agent, domain, line or month, as bars and a table."""
    st.subheader("Breakdown")
    st.segmented_control(
        "Break down by",
        list(GROUPINGS),
        key=GROUPING_KEY,
        default="Agent",
        on_change=session.touch,
    )
    label = chosen_grouping()
    groups = savings_data.breakdown(url, GROUPINGS[label], savings_data.agent_domains())
    st.caption(
        "Totals: each estimate over its own horizon, each realized saving over its verification"
        " window; the realization rate compares them per hour, over verified proposals."
    )
    for currency in currencies:
        frame = breakdown_frame(groups, currency)
        if not frame.empty:
            chart = charts.savings_breakdown(frame, label, currency)
            st.altair_chart(chart, width="stretch")
    st.dataframe(breakdown_table(groups, label), hide_index=True, width="stretch")


def agent_cost_table(
    groups: list[savings_data.SavingsGroup],
    costs: list[savings_data.AgentModelCost],
    domains: dict[str, str],
) -> pd.DataFrame:
    """Per agent: verified proposals, realization rate, model cost and cost per successful task."""
    cost_of: dict[str, list[savings_data.AgentModelCost]] = {}
    for cost in costs:
        cost_of.setdefault(cost.agent, []).append(cost)
    verified: dict[str, int] = {}
    for group in groups:
        verified[group.key] = verified.get(group.key, 0) + group.verified

    def per_success(agent: str) -> str:
        spent = cost_of.get(agent, [])
        if not spent:
            return "0 (no model calls)"
        if not verified.get(agent):
            return "— (nothing verified yet)"
        return ", ".join(
            f"{(c.cost / verified[agent]).quantize(Decimal('0.00001'))} {c.currency}" for c in spent
        )

    return pd.DataFrame(
        {
            "Agent": [g.key for g in groups],
            "Domain": [domains.get(g.key, savings_data.UNREGISTERED) for g in groups],
            "Verified (successful)": [g.verified for g in groups],
            "Realization rate": [percent(g.realization_rate) for g in groups],
            "Model cost": [
                ", ".join(f"{c.cost} {c.currency}" for c in cost_of.get(g.key, [])) or "0"
                for g in groups
            ],
            "Cost per successful task": [per_success(g.key) for g in groups],
        }
    )


def proposal_table(lines: list[SavingsLine]) -> pd.DataFrame:
    """One row per proposal: estimated saving with its horizon, realized with its period."""
    return pd.DataFrame(
        {
            "Proposal": [line.title for line in lines],
            "Agent": [line.agent for line in lines],
            "Line": [line.line for line in lines],
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


def show_proposals(url: str) -> None:
    """The newest proposals with their savings, and every proposal's savings as CSV."""
    st.subheader("Proposals")
    lines = savings_data.proposal_savings(url)
    st.caption(f"Newest {data.TABLE_ROWS} at most; the CSV holds every proposal.")
    st.dataframe(proposal_table(lines), hide_index=True, width="stretch")
    st.download_button(
        "Download every proposal's savings (CSV)",
        data=lambda: savings_data.savings_csv(url),
        file_name="savings.csv",
        mime="text/csv",
        key="savings_csv",
        on_click="ignore",
        icon=":material/download:",
    )


@st.fragment(run_every=data.REFRESH_SECONDS)
def live_savings() -> None:
    """Headline numbers, charts and tables, refreshed from the ledger every few seconds."""
    if not session.live_part_allowed():
        return
    url = data.ledger_url()
    try:
        totals = savings_data.currency_totals(url)
        if not totals:
            st.info(EMPTY_LEDGER)
            return
        per_agent = savings_data.hourly_rates(url)
        points = savings_data.cumulative_realized(url)
        for total in totals:
            if len(totals) > 1:
                st.subheader(total.currency)
            show_headline(total)
            by_agent, over_time = st.columns(2)
            with by_agent:
                st.markdown(
                    "**Saving per hour per agent** (verified proposals: estimated over its"
                    " horizon, realized over its verification window)"
                )
                show_agents_chart(per_agent, total.currency)
            with over_time:
                st.markdown("**Cumulative realized saving**")
                show_cumulative([p for p in points if p.currency == total.currency], total.currency)
        show_breakdown(url, [total.currency for total in totals])
        show_agent_costs(url)
        show_proposals(url)
        show_language_costs(url)
    except (LedgerError, FactoryAgentsError) as err:
        st.error(str(err))


def show_agent_costs(url: str) -> None:
    """Per agent: realization rate and the cost of each successful (verified) task."""
    st.subheader("Per agent: realization and cost per successful task")
    st.caption(
        "A successful task is a proposal executed and verified (its saving measured). The cost"
        " is what the language models charged for explaining the agent's proposals, failed"
        " calls included; agents themselves run on the platform's own machines."
    )
    domains = savings_data.agent_domains()
    groups = savings_data.breakdown(url, "agent", domains)
    costs = savings_data.agent_model_costs(url)
    st.dataframe(agent_cost_table(groups, costs, domains), hide_index=True, width="stretch")


def show_language_costs(url: str) -> None:
    """What the language models cost: per task type and model, per task and per success."""
    st.subheader("Language-model cost")
    st.caption("Explanations and copilot answers, per task type and model.")
    show_cost_summaries(savings_data.model_costs(url))


def show_savings_page() -> None:
    """The Savings page: what it shows, then its live part."""
    session.require()
    st.title("Savings")
    st.caption(
        "Estimated savings are predictions made before acting; realized savings are measured "
        "after acting. The two are shown side by side and never added together."
    )
    live_savings()

"""Copilot page: ask the plant a question; the answer, the numbers it cites, the tools it used."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Sequence
from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import data, session
from factory_agents.errors import FactoryAgentsError
from factory_agents.llm.config import LlmConfig, load_llm_config
from factory_agents.llm.copilot import FORMS
from factory_agents.llm.copilot_contract import CopilotAnswer
from factory_agents.llm.cost import CostSummary, InMemoryUsageSink, UsageRecord, summarize
from factory_agents.settings import Settings

QUESTION_KEY = "copilot_question"
DRAFT_KEY = "copilot_draft"
ANSWER_KEY = "copilot_answer"
NO_MODEL = (
    "**No language model is configured.** The copilot answers these question forms from its"
    " read-only tools, and says plainly when a question needs a model: "
    + ", ".join(FORMS)
    + ". Set FACTORY_LLM_MODELS to ask anything (see the README, 'Using a language model')."
)
NO_MODEL_COSTS = (
    "No language-model calls recorded yet. With FACTORY_LLM_MODELS set, each call's tokens and"
    " cost appear here, per task type and model."
)
ABOUT = (
    "Answers come from read-only tools over the plant, the MES and the ledger, and every"
    " number is traced to the tool result it came from. The copilot never changes the plant."
)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


def plain(text: str) -> str:
    """`text` with Markdown syntax escaped, so model or plant text shows as written."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def ask_question(config: LlmConfig, question: str, allow_drafts: bool) -> None:
    """Form callback's work: answer the question, keep the answer (or the error) for display."""
    from workflows.llm_activities import AskInput, PlatformDraftSink, ask_platform

    settings = Settings()
    ledger = data.open_ledger(settings.ledger_url)
    signed_in = session.current_user()
    user = signed_in.id if signed_in is not None else os.environ.get("FACTORY_USER", "board")
    drafts = PlatformDraftSink(settings, ledger, settings.policy(), user=user)
    try:
        result = asyncio.run(
            ask_platform(
                settings,
                config,
                AskInput(question=question, allow_drafts=allow_drafts, user=user),
                usage_sink=InMemoryUsageSink(),
                ledger=ledger,
                draft_sink=drafts if allow_drafts else None,
            )
        )
    except (FactoryAgentsError, ValueError) as err:
        st.session_state[ANSWER_KEY] = str(err)
        return
    st.session_state[ANSWER_KEY] = (result.answer, result.usage)
    if result.answer.drafts:
        data.forget_cached_queries()


def show_answer(answer: CopilotAnswer, usage: list[UsageRecord]) -> None:
    """The answer with its label, cited numbers, tool calls, drafts and cost."""
    st.markdown(plain(answer.answer))
    st.caption(answer.label)
    if answer.needs_model:
        st.info("This question needs a language model; see the question forms above.")
    if answer.stopped:
        st.warning(answer.stopped)
    for outcome in answer.drafts:
        if outcome.status == "recorded":
            st.success(f"Draft recorded: {outcome.reason} See the Approvals page.")
        else:
            st.error(f"Draft refused: {outcome.reason}")
    if answer.citations:
        st.markdown("**Numbers cited**")
        st.dataframe(
            pd.DataFrame(
                {
                    "number": [c.text for c in answer.citations],
                    "from": [c.source for c in answer.citations],
                }
            ),
            hide_index=True,
        )
    if answer.unsupported_numbers:
        st.warning("Numbers not found in any tool result: " + ", ".join(answer.unsupported_numbers))
    if answer.tool_calls:
        with st.expander(f"Tool calls ({len(answer.tool_calls)})", expanded=True):
            st.dataframe(
                pd.DataFrame(
                    {
                        "tool": [c.name for c in answer.tool_calls],
                        "arguments": [
                            json.dumps(c.args) if isinstance(c.args, dict) else c.args
                            for c in answer.tool_calls
                        ],
                        "status": [c.status for c in answer.tool_calls],
                        "result": [c.message for c in answer.tool_calls],
                    }
                ),
                hide_index=True,
            )
    for line in summarize(usage):
        st.caption(
            f"{line.calls} model call(s), {line.input_tokens} input and {line.output_tokens}"
            f" output tokens, cost {line.cost} {line.currency}"
        )


def show_model_costs(records: Sequence[UsageRecord]) -> None:
    """Language-model cost per task type and model: per task and per successful task.

    For the Savings page, over the usage records the ledger keeps.
    """
    show_cost_summaries(summarize(records, by_model=True))


def show_cost_summaries(lines: Sequence[CostSummary]) -> None:
    """Per task type and model: tasks, successes, calls, tokens, cost per (successful) task."""
    if not lines:
        st.info(NO_MODEL_COSTS)
        return
    st.dataframe(
        pd.DataFrame(
            {
                "task": [line.task for line in lines],
                "model": [line.model for line in lines],
                "tasks": [line.tasks for line in lines],
                "successful": [line.successful_tasks for line in lines],
                "calls": [line.calls for line in lines],
                "failed calls": [line.failed_calls for line in lines],
                "tokens in / out": [f"{x.input_tokens} / {x.output_tokens}" for x in lines],
                "cost": [f"{line.cost} {line.currency}" for line in lines],
                "per task": [_per(line.cost_per_task, line.currency) for line in lines],
                "per successful task": [
                    _per(line.cost_per_successful_task, line.currency) for line in lines
                ],
            }
        ),
        hide_index=True,
    )


def _per(amount: Decimal | None, currency: str) -> str:
    return "—" if amount is None else f"{amount} {currency}"


def show_copilot_page() -> None:
    """A question box; the answer with its cited numbers and tool calls; no-model label."""
    st.title("Copilot")
    st.caption(ABOUT)
    try:
        config = load_llm_config()
    except FactoryAgentsError as err:
        st.error(f"The language model settings cannot be used: {err}")
        return
    if config.configured:
        models = ", ".join(m.label for m in config.models_for("copilot")) or "none"
        st.caption(f"Models for the copilot: {models}")
    else:
        st.info(NO_MODEL)
    with st.form("copilot", border=False):
        st.text_input(
            "Question",
            key=QUESTION_KEY,
            placeholder="current value of Line1.Filler.FillWeightSetpoint",
        )
        allow_drafts = False
        if config.configured:
            allow_drafts = st.checkbox(
                "Let it draft a proposal (recorded as pending; an engineer must approve it)",
                key=DRAFT_KEY,
            )
        asked = st.form_submit_button("Ask")
    question = str(st.session_state.get(QUESTION_KEY, "")).strip()
    if asked and question:
        with st.spinner("Asking ..."):
            ask_question(config, question, allow_drafts)
    elif asked:
        st.session_state[ANSWER_KEY] = "Type a question first."
    shown = st.session_state.get(ANSWER_KEY)
    if isinstance(shown, str):
        st.error(shown)
    elif shown is not None:
        answer, usage = shown
        show_answer(answer, usage)

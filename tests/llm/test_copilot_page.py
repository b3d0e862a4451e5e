"""The board's Copilot page through Streamlit's AppTest, against the simulated plant.

AppTest runs the page in a thread (`asyncio.to_thread`), so that the simulated plant,
served by the test session's event loop, keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.copilot_page import NO_MODEL, QUESTION_KEY, plain
from factory_agents import site
from factory_agents.llm import fakes
from factory_agents.llm.fakes import call_tools, reply, tool_call

TIMEOUT = 30


def copilot_script() -> None:
    """The Copilot page alone, as AppTest runs it."""
    from dashboards.copilot_page import show_copilot_page

    show_copilot_page()


async def opened() -> AppTest:
    app = AppTest.from_function(copilot_script, default_timeout=TIMEOUT)
    await asyncio.to_thread(app.run)
    assert not app.exception, [e.value for e in app.exception]
    return app


async def asked(app: AppTest, question: str) -> AppTest:
    app.text_input(key=QUESTION_KEY).input(question)
    app.button[0].click()
    await asyncio.to_thread(app.run)
    assert not app.exception, [e.value for e in app.exception]
    return app


def table(app: AppTest, index: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = app.dataframe[index].value.to_dict("records")
    return rows


async def test_without_a_model_the_page_says_so_and_answers_from_tools(
    platform_env: Path,
) -> None:
    app = await opened()
    (info,) = app.info
    assert info.value == NO_MODEL
    assert app.title[0].value == "Copilot"

    await asked(app, "current value of Line1.Filler.FillWeightSetpoint")

    answer = app.markdown[0].value
    assert answer.startswith(plain(f"{site.FILL_SETPOINT} = 500 g (quality good"))
    assert any("Answered without a language model" in c.value for c in app.caption)
    cited = table(app, 0)
    assert cited == [{"number": "500", "from": f"read_tags:{site.FILL_SETPOINT}"}]
    calls = table(app, 1)
    assert [(c["tool"], c["status"]) for c in calls] == [("read_tags", "executed")]


async def test_a_question_needing_a_model_is_labelled(platform_env: Path) -> None:
    app = await asked(await opened(), "Why did the capper stop twice last night?")

    assert app.markdown[0].value.startswith("This question needs a language model")
    assert any(i.value.startswith("This question needs a language model") for i in app.info)


async def test_with_a_model_the_page_shows_its_tool_calls_and_refusals(
    platform_env: Path, monkeypatch: pytest.MonkeyPatch, script: list[str]
) -> None:
    fakes.register_script(
        "board",
        lambda: [
            call_tools(
                tool_call("read_tags", {"tags": [site.FILL_SETPOINT]}),
                tool_call("write_setpoint", {"node_id": site.FILL_SETPOINT, "value": 520}),
            ),
            reply("The fill-weight setpoint is 500 g; I cannot change it."),
        ],
    )
    script.append("board")
    monkeypatch.setenv("FACTORY_LLM_MODELS", "copilot=fake:board")

    app = await opened()
    assert not app.info  # a model is configured
    assert any("Models for the copilot: fake:board" in c.value for c in app.caption)
    assert app.checkbox[0].label.startswith("Let it draft a proposal")

    await asked(app, "What is the fill-weight setpoint?")

    assert app.markdown[0].value == plain("The fill-weight setpoint is 500 g; I cannot change it.")
    assert any("Answered by fake:board" in c.value for c in app.caption)
    calls = table(app, 1)
    assert [(c["tool"], c["status"]) for c in calls] == [
        ("read_tags", "executed"),
        ("write_setpoint", "refused"),
    ]
    assert "not on the allow-list" in str(calls[1]["result"])
    assert any("2 model call(s)" in c.value for c in app.caption)


async def test_unusable_model_settings_are_explained(
    platform_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTORY_LLM_MODELS", "summarise=openai:gpt-4o")

    app = await opened()

    (error,) = app.error
    assert "unknown task 'summarise'" in error.value


async def test_an_empty_question_asks_for_one(platform_env: Path) -> None:
    app = await opened()
    app.button[0].click()
    await asyncio.to_thread(app.run)

    (error,) = app.error
    assert error.value == "Type a question first."


def costs_script() -> None:
    """The model-cost table over three usage records, as the Savings page would show it."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from dashboards.copilot_page import show_model_costs
    from factory_agents.llm.cost import UsageRecord

    def call(task_id: str, cost: str, task_ok: bool) -> UsageRecord:
        return UsageRecord(
            call_id=f"c-{task_id}",
            task_id=task_id,
            task="explain",
            model="openai:gpt-4o-mini",
            input_tokens=1000,
            output_tokens=100,
            usage_reported=True,
            cost=Decimal(cost),
            currency="USD",
            latency_seconds=1.0,
            call_ok=True,
            task_ok=task_ok,
            at=datetime.now(UTC),
        )

    show_model_costs([call("e1", "0.0003", True), call("e2", "0.0003", False)])


def no_costs_script() -> None:
    """The model-cost table with no record."""
    from dashboards.copilot_page import show_model_costs

    show_model_costs([])


def test_model_costs_show_cost_per_task_and_per_successful_task() -> None:
    app = AppTest.from_function(costs_script, default_timeout=TIMEOUT).run()

    (row,) = table(app, 0)
    assert (row["task"], row["model"], row["tasks"], row["successful"]) == (
        "explain",
        "openai:gpt-4o-mini",
        2,
        1,
    )
    assert row["cost"] == "0.0006 USD"
    assert row["per task"] == "0.0003 USD"
    assert row["per successful task"] == "0.0006 USD"
    assert row["tokens in / out"] == "2000 / 200"


def test_no_model_costs_say_what_will_appear() -> None:
    app = AppTest.from_function(no_costs_script, default_timeout=TIMEOUT).run()

    (info,) = app.info
    assert info.value.startswith("No language-model calls recorded yet.")

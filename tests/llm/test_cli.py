"""`factory-agents ask` and `factory-agents eval` through Typer's CliRunner.

The commands run in a thread (`asyncio.to_thread`) so that the simulated plant, served by
the test session's event loop, keeps answering while they run their own loop.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from factory_agents import site
from factory_agents.commands.ask import ask_command
from factory_agents.commands.evals import eval_command
from factory_agents.llm import fakes
from factory_agents.llm.errors import LlmConfigurationError, ProviderNotInstalled
from factory_agents.llm.fakes import call_tools, reply, tool_call

app = typer.Typer()
app.command("ask")(ask_command)
app.command("eval")(eval_command)


async def invoke(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def test_ask_without_a_model_answers_from_the_tools(platform_env: Path) -> None:
    result = await invoke("ask", "current value of Line1.Filler.FillWeightSetpoint")

    assert result.exit_code == 0, result.output
    assert f"{site.FILL_SETPOINT} = 500 g (quality good" in result.output
    assert "Answered without a language model" in result.output
    assert f"read_tags:{site.FILL_SETPOINT}" in result.output  # the cited number's source


async def test_ask_json_carries_answer_citations_and_tool_calls(platform_env: Path) -> None:
    result = await invoke("ask", "What is the current value of Line1.GoodCount?", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    answer = data["answer"]
    assert answer["generated_by"] == "deterministic"
    assert answer["tool_calls"][0]["name"] == "read_tags"
    assert answer["citations"][0]["source"] == f"read_tags:{site.LINE_GOOD}"
    assert data["usage"] == []


async def test_ask_says_plainly_what_needs_a_model(platform_env: Path) -> None:
    result = await invoke("ask", "Why is the capper slower than yesterday?")

    assert result.exit_code == 0
    assert "This question needs a language model, and none is configured." in result.output


async def test_ask_with_a_configured_model_shows_its_tool_calls_and_cost(
    platform_env: Path, monkeypatch: pytest.MonkeyPatch, script: list[str]
) -> None:
    fakes.register_script(
        "cli",
        lambda: [
            call_tools(tool_call("read_tags", {"tags": [site.FILL_SETPOINT]})),
            reply("The fill-weight setpoint is 500 g."),
        ],
    )
    script.append("cli")
    monkeypatch.setenv("FACTORY_LLM_MODELS", "copilot=fake:cli")

    result = await invoke("ask", "What is the fill-weight setpoint?")

    assert result.exit_code == 0, result.output
    assert "The fill-weight setpoint is 500 g." in result.output
    assert "Answered by fake:cli" in result.output
    assert "executed" in result.output
    assert "2 model call(s)" in result.output


async def test_ask_with_a_provider_not_installed_names_the_extra(
    platform_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTORY_LLM_MODELS", "copilot=openai:gpt-4o-mini")

    result = await invoke("ask", "hello")

    assert isinstance(result.exception, ProviderNotInstalled)
    assert "pip install 'factory-agents[openai]'" in str(result.exception)


async def test_eval_faithfulness_with_scripted_fakes_reports_per_model() -> None:
    result = await invoke("eval", "--suite", "faithfulness", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["mode"] == "scripted"
    rows = {(row["model"], row["suite"]): row for row in report["summary"]}
    assert rows[("fake:scripted", "faithfulness")]["passed"] == 4
    assert rows[("deterministic", "faithfulness")]["pass_rate"] == 1.0


async def test_eval_exits_1_when_a_configured_model_fails(
    monkeypatch: pytest.MonkeyPatch, script: list[str]
) -> None:
    fakes.register_script("down", lambda: [ConnectionError("no route to host")])
    script.append("down")
    monkeypatch.setenv("FACTORY_LLM_MODELS", "explain=fake:down")

    result = await invoke("eval", "--suite", "faithfulness")

    assert result.exit_code == 1
    assert "FAIL fake:down faithfulness" in result.output
    assert "mode: configured" in result.output
    assert "0/3" in result.output and "3/3" in result.output


async def test_eval_refuses_an_unknown_suite() -> None:
    result = await invoke("eval", "--suite", "poetry")

    assert isinstance(result.exception, LlmConfigurationError)
    assert "use --suite with one of faithfulness, copilot, tool_use" in str(result.exception)


def test_the_cli_names_the_eval_suites_there_are() -> None:
    from factory_agents.commands import evals as command
    from factory_agents.llm import evals

    assert command.SUITES == evals.SUITES

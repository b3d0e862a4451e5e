"""The router: task → models, lazily built providers (no client retries, a timeout), fallbacks."""

from __future__ import annotations

import dataclasses

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from factory_agents.llm import fakes
from factory_agents.llm.config import LlmConfig, ModelRef, parse_models
from factory_agents.llm.cost import UsageMeter
from factory_agents.llm.errors import LlmConfigurationError, ModelOutputError, ProviderNotInstalled
from factory_agents.llm.fakes import (
    FailingChatModel,
    ScriptedChatModel,
    call_tools,
    reply,
    structured,
    tool_call,
    usage,
)
from factory_agents.llm.router import PROVIDERS, ConfiguredModel, ModelRouter, TaskModels
from tests.llm.recording_provider import RecordingChatModel


class Verdict(BaseModel):
    """A yes/no answer with a reason."""

    ok: bool
    reason: str


def config(models: str, **extra: object) -> LlmConfig:
    return LlmConfig(routes=parse_models(models), **extra)  # type: ignore[arg-type]


def task_models(*models: ScriptedChatModel | FailingChatModel) -> TaskModels:
    return TaskModels(
        "copilot",
        [ConfiguredModel(ModelRef.parse(m.label), m) for m in models],
    )


def substituted(provider: str) -> dict[str, object]:
    """The registry with `provider`'s class replaced by RecordingChatModel (same arguments)."""
    spec = dataclasses.replace(
        PROVIDERS[provider], module="tests.llm.recording_provider", class_name="RecordingChatModel"
    )
    return {**PROVIDERS, provider: spec}


def test_no_model_configured_gives_none() -> None:
    router = ModelRouter(LlmConfig())

    assert not router.configured
    assert router.for_task("explain") is None
    assert router.for_task("copilot") is None


def test_each_task_gets_its_own_models_in_order(script: list[str]) -> None:
    for name in ("explainer", "helper", "backup"):
        fakes.register_script(name, lambda: [reply("hi")])
        script.append(name)
    router = ModelRouter(config("explain=fake:explainer;copilot=fake:helper,fake:backup"))

    explain = router.for_task("explain")
    copilot = router.for_task("copilot")

    assert explain is not None and copilot is not None
    assert explain.labels == ["fake:explainer"]
    assert copilot.labels == ["fake:helper", "fake:backup"]
    assert all(isinstance(m.chat, ScriptedChatModel) for m in copilot.models)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_hosted_providers_get_no_client_retries_and_the_timeout(provider: str) -> None:
    router = ModelRouter(
        config(f"explain={provider}:some-model", timeout_seconds=12.0),
        providers=substituted(provider),  # type: ignore[arg-type]
    )

    (built,) = router.for_task("explain").models  # type: ignore[union-attr]

    chat = built.chat
    assert isinstance(chat, RecordingChatModel)
    assert chat.model == "some-model"
    assert chat.max_retries == 0
    assert chat.timeout == 12.0
    assert chat.base_url is None


def test_openai_compatible_server_gets_its_base_url() -> None:
    router = ModelRouter(
        config("copilot=openai:qwen2.5", endpoints={"openai": "http://127.0.0.1:8000/v1"}),
        providers=substituted("openai"),  # type: ignore[arg-type]
    )

    (built,) = router.for_task("copilot").models  # type: ignore[union-attr]

    assert isinstance(built.chat, RecordingChatModel)
    assert built.chat.base_url == "http://127.0.0.1:8000/v1"


def test_ollama_gets_the_timeout_on_its_http_client() -> None:
    router = ModelRouter(
        config("copilot=ollama:llama3.1", timeout_seconds=45.0),
        providers=substituted("ollama"),  # type: ignore[arg-type]
    )

    (built,) = router.for_task("copilot").models  # type: ignore[union-attr]

    assert isinstance(built.chat, RecordingChatModel)
    assert built.chat.model == "llama3.1"
    assert built.chat.client_kwargs == {"timeout": 45.0}


@pytest.mark.parametrize(
    ("provider", "extra"), [("openai", "openai"), ("anthropic", "anthropic"), ("ollama", "ollama")]
)
def test_missing_provider_package_names_the_pip_extra(provider: str, extra: str) -> None:
    router = ModelRouter(config(f"copilot={provider}:m"))

    with pytest.raises(ProviderNotInstalled, match=rf"pip install 'factory-agents\[{extra}\]'"):
        router.for_task("copilot")


def test_unknown_provider_lists_the_known_ones() -> None:
    router = ModelRouter(config("copilot=mistral:large"))

    with pytest.raises(LlmConfigurationError, match=r"unknown provider 'mistral'.*ollama"):
        router.check()


def test_unregistered_fake_script_is_explained() -> None:
    with pytest.raises(LlmConfigurationError, match="register_script"):
        ModelRouter(config("copilot=fake:nothing-here")).for_task("copilot")


async def test_fallback_answers_when_the_first_model_raises() -> None:
    down = FailingChatModel(label="openai:down")
    backup = ScriptedChatModel(label="ollama:backup", script=[reply("from the backup")])
    meter = UsageMeter("copilot", "t1", lambda label: LlmConfig().prices.price_for("ollama:x"))

    answer = (
        await task_models(down, backup)
        .plain()
        .ainvoke([HumanMessage("hello")], config={"callbacks": [meter]})
    )

    assert answer.content == "from the backup"
    assert len(down.calls) == 1 and len(backup.calls) == 1
    assert [(r.model, r.call_ok) for r in meter.records] == [
        ("openai:down", False),
        ("ollama:backup", True),
    ]
    assert "ConnectionError" in meter.records[0].error


async def test_every_model_failing_raises_the_first_error() -> None:
    models = task_models(FailingChatModel(label="openai:a"), FailingChatModel(label="openai:b"))

    with pytest.raises(ConnectionError, match="provider unreachable"):
        await models.plain().ainvoke([HumanMessage("hello")])


async def test_the_same_tools_are_bound_to_every_model() -> None:
    async def read_tags(tags: list[str]) -> str:
        return "ok"

    tool = StructuredTool.from_function(coroutine=read_tags, name="read_tags", description="Read")
    down = FailingChatModel(label="openai:down")
    backup = ScriptedChatModel(
        label="ollama:backup", script=[call_tools(tool_call("read_tags", {"tags": ["x"]}))]
    )

    message = await task_models(down, backup).with_tools([tool]).ainvoke([HumanMessage("x")])

    assert message.tool_calls[0]["name"] == "read_tags"
    assert down.calls[0].tools == ["read_tags"] == backup.calls[0].tools


async def test_structured_output_is_parsed_into_the_schema() -> None:
    model = ScriptedChatModel(
        label="openai:m", script=[structured(Verdict, {"ok": True, "reason": "fits"})]
    )

    verdict = await task_models(model).structured(Verdict).ainvoke([HumanMessage("judge")])

    assert verdict == Verdict(ok=True, reason="fits")
    assert model.calls[0].tools == ["Verdict"]
    assert model.calls[0].tool_choice == "any"


async def test_malformed_structured_output_falls_back_and_is_reported() -> None:
    sloppy = ScriptedChatModel(
        label="openai:sloppy", script=[structured(Verdict, {"ok": "maybe", "why": "no idea"})]
    )
    careful = ScriptedChatModel(
        label="anthropic:careful", script=[structured(Verdict, {"ok": False, "reason": "no"})]
    )
    refused: list[tuple[str, str]] = []

    verdict = (
        await task_models(sloppy, careful)
        .structured(Verdict, on_rejected=lambda model, reason: refused.append((model, reason)))
        .ainvoke([HumanMessage("judge")])
    )

    assert verdict == Verdict(ok=False, reason="no")
    assert [model for model, _ in refused] == ["openai:sloppy"]
    assert "outside the Verdict schema" in refused[0][1]


async def test_an_answer_without_the_structured_call_is_malformed() -> None:
    chatty = ScriptedChatModel(label="openai:chatty", script=[reply("Sure! It is fine.")])

    with pytest.raises(ModelOutputError, match="no structured answer"):
        await task_models(chatty).structured(Verdict).ainvoke([HumanMessage("judge")])


async def test_usage_metadata_reaches_the_meter_with_the_serving_model() -> None:
    model = ScriptedChatModel(
        label="openai:gpt-4o-mini", script=[reply("ok", tokens=usage(1000, 50))]
    )
    meter = UsageMeter("copilot", "t2", LlmConfig().prices.price_for)

    await task_models(model).plain().ainvoke([HumanMessage("x")], config={"callbacks": [meter]})

    (record,) = meter.records
    assert (record.model, record.input_tokens, record.output_tokens) == (
        "openai:gpt-4o-mini",
        1000,
        50,
    )
    assert record.usage_reported

"""FACTORY_LLM_* settings: routes per task, prices, timeouts, and clear errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from factory_agents.errors import ConfigurationError
from factory_agents.llm.config import (
    LlmSettings,
    ModelRef,
    load_llm_config,
    parse_endpoints,
    parse_models,
)
from factory_agents.llm.errors import LlmConfigurationError


def test_models_are_routed_per_task_in_fallback_order() -> None:
    routes = parse_models(
        "explain=openai:gpt-4o-mini, ollama:llama3.1 ; copilot=anthropic:claude-sonnet-4-5"
    )

    assert [ref.label for ref in routes["explain"]] == ["openai:gpt-4o-mini", "ollama:llama3.1"]
    assert [ref.label for ref in routes["copilot"]] == ["anthropic:claude-sonnet-4-5"]
    assert "draft" not in routes


def test_star_sets_every_task_not_named() -> None:
    routes = parse_models("*=ollama:llama3.1;explain=openai:gpt-4o-mini")

    assert [r.label for r in routes["explain"]] == ["openai:gpt-4o-mini"]
    assert [r.label for r in routes["copilot"]] == ["ollama:llama3.1"]
    assert [r.label for r in routes["draft"]] == ["ollama:llama3.1"]


def test_draft_falls_back_to_the_copilot_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTORY_LLM_MODELS", "copilot=ollama:qwen2.5:7b")

    config = load_llm_config()

    assert [r.label for r in config.models_for("draft")] == ["ollama:qwen2.5:7b"]
    assert config.models_for("explain") == ()
    assert config.configured


def test_model_names_may_contain_colons() -> None:
    ref = ModelRef.parse("ollama:llama3.1:8b-instruct")

    assert (ref.provider, ref.model) == ("ollama", "llama3.1:8b-instruct")


def test_nothing_set_means_no_model() -> None:
    config = load_llm_config(LlmSettings())

    assert not config.configured
    assert config.models_for("copilot") == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("explain=gpt-4o", "provider:model"),
        ("summarise=openai:gpt-4o", "unknown task 'summarise'"),
        ("openai:gpt-4o", "names no task"),
        ("explain=", "lists no model"),
        ("explain=openai:a;explain=openai:b", "configured twice"),
        ("explain=Open AI:gpt", "provider name"),
    ],
)
def test_bad_routes_say_what_to_write(text: str, expected: str) -> None:
    with pytest.raises(LlmConfigurationError, match=expected) as caught:
        parse_models(text)

    assert isinstance(caught.value, ConfigurationError)


def test_a_model_without_price_is_refused_with_the_toml_to_add(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FACTORY_LLM_MODELS", "explain=openai:gpt-9-turbo")

    with pytest.raises(LlmConfigurationError, match=r'\["openai:gpt-9-turbo"\]'):
        load_llm_config()


def test_prices_file_adds_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '["openai:gpt-9-turbo"]\ninput_per_million = "1.25"\noutput_per_million = 5\n'
        'currency = "EUR"\n\n["ollama:*"]\n'
        'input_per_million = "0.01"\noutput_per_million = "0.02"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("FACTORY_LLM_MODELS", "explain=openai:gpt-9-turbo;copilot=ollama:llama3.1")
    monkeypatch.setenv("FACTORY_LLM_PRICES_FILE", str(prices))

    config = load_llm_config()

    turbo = config.prices.price_for("openai:gpt-9-turbo")
    assert (turbo.input_per_million, turbo.output_per_million) == (Decimal("1.25"), Decimal(5))
    assert turbo.currency == "EUR"
    assert config.prices.price_for("ollama:llama3.1").input_per_million == Decimal("0.01")
    assert config.prices.price_for("openai:gpt-4o-mini").input_per_million == Decimal("0.15")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not = [toml", "not valid TOML"),
        ('gpt = { input_per_million = "1" }', "provider:model"),
        ('["openai:x"]\ninput_per_million = "-1"\noutput_per_million = "1"', "not usable"),
    ],
)
def test_bad_price_files_are_explained(tmp_path: Path, content: str, expected: str) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(content, encoding="utf-8")

    with pytest.raises(LlmConfigurationError, match=expected):
        load_llm_config(LlmSettings(llm_prices_file=prices))


def test_missing_price_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LlmConfigurationError, match="cannot read the price file"):
        load_llm_config(LlmSettings(llm_prices_file=tmp_path / "absent.toml"))


def test_timeout_steps_and_endpoints_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FACTORY_LLM_TIMEOUT_SECONDS", "12.5")
    monkeypatch.setenv("FACTORY_LLM_MAX_STEPS", "3")
    monkeypatch.setenv("FACTORY_LLM_ENDPOINTS", "ollama=http://gpu-box:11434")

    config = load_llm_config()

    assert (config.timeout_seconds, config.max_steps) == (12.5, 3)
    assert config.endpoints == {"ollama": "http://gpu-box:11434"}


def test_endpoints_must_be_urls() -> None:
    with pytest.raises(LlmConfigurationError, match="provider=url"):
        parse_endpoints("ollama=gpu-box:11434")

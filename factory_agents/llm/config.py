"""Which language models serve which task, what they cost, and how long a call may take.

Models are configured per task type as an ordered list of `provider:model`; the first is
tried first, the others are fallbacks::

    FACTORY_LLM_MODELS="explain=openai:gpt-4o-mini,ollama:llama3.1;copilot=anthropic:claude-sonnet-4-5"

Task types: `explain` (a proposal's explanation), `copilot` (questions answered with
read-only tools), `draft` (copilot questions that may draft a proposal; falls back to the
`copilot` models when not set). `*=...` sets every task not named otherwise. Nothing set
means no model: explanations and answers are built deterministically.

Prices are per million tokens, in a TOML file named by FACTORY_LLM_PRICES_FILE that
extends (and overrides) the built-in table; `provider:*` prices every model of a provider::

    ["openai:gpt-4o-mini"]
    input_per_million = "0.15"
    output_per_million = "0.60"
    currency = "USD"
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from factory_agents.llm.errors import LlmConfigurationError

TaskKind = Literal["explain", "copilot", "draft"]
"""What a model is used for."""
TASKS: tuple[TaskKind, ...] = get_args(TaskKind)
ALL_TASKS = "*"
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_STEPS = 6
_EXAMPLE = "explain=openai:gpt-4o-mini,ollama:llama3.1;copilot=anthropic:claude-sonnet-4-5"


class ModelRef(BaseModel):
    """One model of one provider, written `provider:model` (e.g. `ollama:llama3.1`)."""

    model_config = ConfigDict(frozen=True)

    provider: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    model: str = Field(min_length=1)

    @property
    def label(self) -> str:
        """`provider:model`, as configured and as usage records name it."""
        return f"{self.provider}:{self.model}"

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """A ModelRef from `provider:model`; LlmConfigurationError if it is not written so."""
        provider, colon, model = text.strip().partition(":")
        if not colon or not provider.strip() or not model.strip():
            raise LlmConfigurationError(
                f"{text.strip()!r} is not a model; write it as provider:model, e.g."
                " openai:gpt-4o-mini or ollama:llama3.1"
            )
        try:
            return cls(provider=provider.strip().lower(), model=model.strip())
        except ValidationError as err:
            raise LlmConfigurationError(
                f"{text.strip()!r}: the provider name must be lowercase letters, digits, '-'"
                f" or '_' ({err.errors()[0]['msg']})"
            ) from err


class ModelPrice(BaseModel):
    """What a model charges per million input and output tokens, in one currency."""

    model_config = ConfigDict(frozen=True)

    input_per_million: Decimal = Field(ge=0)
    output_per_million: Decimal = Field(ge=0)
    currency: str = Field("USD", min_length=3, max_length=3)


def _price(inp: str, out: str, currency: str = "USD") -> ModelPrice:
    return ModelPrice(
        input_per_million=Decimal(inp), output_per_million=Decimal(out), currency=currency
    )


DEFAULT_PRICES: Mapping[str, ModelPrice] = {
    # List prices at the time of writing; override them in FACTORY_LLM_PRICES_FILE.
    "openai:gpt-4o-mini": _price("0.15", "0.60"),
    "openai:gpt-4o": _price("2.50", "10.00"),
    "anthropic:claude-3-5-haiku-latest": _price("0.80", "4.00"),
    "anthropic:claude-sonnet-4-5": _price("3.00", "15.00"),
    "ollama:*": _price("0", "0"),
    "fake:*": _price("0", "0"),
}
"""Built-in prices per million tokens; local (ollama) and scripted (fake) models cost nothing."""


class PriceTable(BaseModel):
    """Prices by `provider:model`, with `provider:*` entries pricing a whole provider."""

    model_config = ConfigDict(frozen=True)

    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    def lookup(self, label: str) -> ModelPrice | None:
        """The price of `provider:model`, its provider's wildcard price, or None."""
        exact = self.prices.get(label)
        if exact is not None:
            return exact
        provider = label.partition(":")[0]
        return self.prices.get(f"{provider}:*")

    def price_for(self, label: str) -> ModelPrice:
        """The price of `label`, or LlmConfigurationError saying how to add one."""
        price = self.lookup(label)
        if price is None:
            raise LlmConfigurationError(
                f"no price for {label}: add it to the TOML file named by"
                f' FACTORY_LLM_PRICES_FILE, e.g. ["{label}"] input_per_million = "0.15"'
                ' output_per_million = "0.60" currency = "USD" (prices per million tokens)'
            )
        return price

    def merged(self, other: Mapping[str, ModelPrice]) -> PriceTable:
        """This table with `other`'s entries added or replacing its own."""
        return PriceTable(prices={**self.prices, **other})


class LlmConfig(BaseModel):
    """The language layer's configuration: routes per task, prices, timeout, step cap."""

    model_config = ConfigDict(frozen=True)

    routes: dict[TaskKind, tuple[ModelRef, ...]] = Field(default_factory=dict)
    prices: PriceTable = Field(default_factory=PriceTable)
    timeout_seconds: float = Field(DEFAULT_TIMEOUT_SECONDS, gt=0)
    max_steps: int = Field(DEFAULT_MAX_STEPS, ge=1, le=50)
    endpoints: dict[str, str] = Field(
        default_factory=dict, description="Base URL per provider (OpenAI-compatible, Ollama)"
    )

    @field_validator("timeout_seconds")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"timeout must be a finite number of seconds; got {value}")
        return value

    @property
    def configured(self) -> bool:
        """True when at least one task has a model."""
        return any(self.routes.values())

    def models_for(self, task: TaskKind) -> tuple[ModelRef, ...]:
        """The models of `task`, first choice first; `draft` falls back to `copilot`'s."""
        models = self.routes.get(task, ())
        if not models and task == "draft":
            return self.routes.get("copilot", ())
        return models

    def labels(self) -> list[str]:
        """Every configured model once, in configuration order."""
        seen: dict[str, None] = {}
        for task in TASKS:
            for ref in self.models_for(task):
                seen.setdefault(ref.label, None)
        return list(seen)

    def check_prices(self) -> None:
        """Raise LlmConfigurationError naming the first configured model without a price."""
        for label in self.labels():
            self.prices.price_for(label)


def parse_models(text: str | None) -> dict[TaskKind, tuple[ModelRef, ...]]:
    """Routes from `task=provider:model,provider:model;task=...` (empty text: no routes)."""
    routes: dict[TaskKind, tuple[ModelRef, ...]] = {}
    everything: tuple[ModelRef, ...] = ()
    if text is None or not text.strip():
        return routes
    for part in text.split(";"):
        if not part.strip():
            continue
        task, equals, models = part.partition("=")
        task = task.strip().lower()
        if not equals:
            raise LlmConfigurationError(
                f"{part.strip()!r} names no task; write task=provider:model[,provider:model]"
                f" separated by ';', e.g. {_EXAMPLE}"
            )
        refs = tuple(ModelRef.parse(m) for m in models.split(",") if m.strip())
        if not refs:
            raise LlmConfigurationError(
                f"task {task!r} lists no model; give at least one provider:model or leave the"
                " task out to run it without a model"
            )
        if task == ALL_TASKS:
            everything = refs
        elif task in TASKS:
            if task in routes:
                raise LlmConfigurationError(f"task {task!r} is configured twice; keep one entry")
            routes[task] = refs
        else:
            raise LlmConfigurationError(
                f"unknown task {task!r} in FACTORY_LLM_MODELS; tasks are"
                f" {', '.join(TASKS)} (or * for all)"
            )
    if everything:
        for task in TASKS:
            routes.setdefault(task, everything)
    return routes


def parse_endpoints(text: str | None) -> dict[str, str]:
    """Base URLs per provider from `provider=url,provider=url` (e.g. ollama=http://gpu:11434)."""
    endpoints: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        provider, equals, url = part.partition("=")
        if not equals or not url.strip().startswith(("http://", "https://")):
            raise LlmConfigurationError(
                f"{part.strip()!r} is not provider=url; write e.g."
                " ollama=http://127.0.0.1:11434,openai=https://llm.example/v1"
            )
        endpoints[provider.strip().lower()] = url.strip()
    return endpoints


def load_prices(path: Path) -> dict[str, ModelPrice]:
    """Prices from a TOML file of `["provider:model"]` tables (see the module docstring)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise LlmConfigurationError(
            f"cannot read the price file {path}: {err.strerror or err}; check"
            " FACTORY_LLM_PRICES_FILE"
        ) from err
    except tomllib.TOMLDecodeError as err:
        raise LlmConfigurationError(f"the price file {path} is not valid TOML: {err}") from err
    prices: dict[str, ModelPrice] = {}
    for label, entry in data.items():
        if ":" not in label or not isinstance(entry, dict):
            raise LlmConfigurationError(
                f"{path}: entry {label!r} must be a table named provider:model (quoted), e.g."
                ' ["openai:gpt-4o-mini"]'
            )
        try:
            prices[label] = ModelPrice.model_validate(
                {k: str(v) if isinstance(v, int | float) else v for k, v in entry.items()}
            )
        except (ValidationError, InvalidOperation) as err:
            raise LlmConfigurationError(
                f"{path}: price of {label} is not usable ({err}); give input_per_million,"
                " output_per_million (numbers, per million tokens) and a 3-letter currency"
            ) from err
    return prices


class LlmSettingsSource(Protocol):
    """Settings holding the language layer's FACTORY_LLM_* fields (Settings or LlmSettings)."""

    @property
    def llm_models(self) -> str | None:
        """FACTORY_LLM_MODELS."""
        ...

    @property
    def llm_prices_file(self) -> Path | None:
        """FACTORY_LLM_PRICES_FILE."""
        ...

    @property
    def llm_timeout_seconds(self) -> float:
        """FACTORY_LLM_TIMEOUT_SECONDS."""
        ...

    @property
    def llm_max_steps(self) -> int:
        """FACTORY_LLM_MAX_STEPS."""
        ...

    @property
    def llm_endpoints(self) -> str | None:
        """FACTORY_LLM_ENDPOINTS."""
        ...


class LlmSettings(BaseSettings):
    """The FACTORY_LLM_* environment variables (the same fields belong in Settings)."""

    model_config = SettingsConfigDict(env_prefix="FACTORY_", extra="ignore")

    llm_models: str | None = Field(
        None, description="task=provider:model[,fallback];...; unset: no language model"
    )
    llm_prices_file: Path | None = Field(None, description="TOML price table (per 1M tokens)")
    llm_timeout_seconds: float = Field(DEFAULT_TIMEOUT_SECONDS, gt=0, description="Per call")
    llm_max_steps: int = Field(DEFAULT_MAX_STEPS, ge=1, le=50, description="Copilot model calls")
    llm_endpoints: str | None = Field(None, description="provider=base_url,...")


def load_llm_config(source: LlmSettingsSource | None = None) -> LlmConfig:
    """The configuration from settings (default: the FACTORY_LLM_* environment), checked."""
    settings = source if source is not None else LlmSettings()
    prices = PriceTable()
    if settings.llm_prices_file is not None:
        prices = prices.merged(load_prices(settings.llm_prices_file))
    try:
        config = LlmConfig(
            routes=parse_models(settings.llm_models),
            prices=prices,
            timeout_seconds=settings.llm_timeout_seconds,
            max_steps=settings.llm_max_steps,
            endpoints=parse_endpoints(settings.llm_endpoints),
        )
    except ValidationError as err:
        raise LlmConfigurationError(f"FACTORY_LLM_* settings are not usable: {err}") from err
    config.check_prices()
    return config

"""Model router: the chat models of each task, built lazily per provider, with fallbacks.

Each configured `provider:model` becomes a langchain-core `BaseChatModel` of its provider's
package, imported only when used, built with the client's own retries off (`max_retries=0`:
Temporal retries the activity) and the configured per-call timeout. A task's models are
chained with `with_fallbacks`: the second is tried when the first raises, and so on.

Providers (pip extras of factory-agents):

| provider | package | extra |
|---|---|---|
| `openai` (and any OpenAI-compatible server, via its base URL) | langchain-openai | `openai` |
| `anthropic` | langchain-anthropic | `anthropic` |
| `ollama` (local models) | langchain-ollama | `ollama` |
| `fake` (scripted, tests and CI evals) | built in | none |
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import BaseTool
from pydantic import BaseModel

from factory_agents.llm.config import LlmConfig, ModelRef, TaskKind
from factory_agents.llm.cost import MODEL_METADATA_KEY
from factory_agents.llm.errors import LlmConfigurationError, ModelOutputError, ProviderNotInstalled

M = TypeVar("M", bound=BaseModel)
ArgumentsBuilder = Callable[[ModelRef, float, str | None], dict[str, Any]]
RejectionHook = Callable[[str, str], None]
"""Called with (model label, reason) when a model's answer is refused as malformed."""


@dataclass(frozen=True)
class ProviderSpec:
    """How to build one provider's chat model: its class, pip extra and constructor arguments."""

    name: str
    module: str
    class_name: str
    extra: str | None
    arguments: ArgumentsBuilder

    def chat_class(self) -> type[BaseChatModel]:
        """The provider's BaseChatModel class, imported now; ProviderNotInstalled if missing."""
        try:
            module = importlib.import_module(self.module)
        except ModuleNotFoundError as err:
            install = f"pip install 'factory-agents[{self.extra}]'" if self.extra else "install it"
            raise ProviderNotInstalled(
                f"a {self.name} model is configured but {self.module} is not installed;"
                f" run {install}, or remove {self.name}:... from FACTORY_LLM_MODELS"
            ) from err
        chat_class = getattr(module, self.class_name, None)
        if not (isinstance(chat_class, type) and issubclass(chat_class, BaseChatModel)):
            raise LlmConfigurationError(
                f"{self.module}.{self.class_name} is not a langchain chat model; check the"
                f" installed version of the {self.name} provider package"
            )
        return chat_class

    def create(self, ref: ModelRef, *, timeout: float, base_url: str | None) -> BaseChatModel:
        """A chat model for `ref`: its client's retries off, its calls bounded by `timeout`."""
        return self.chat_class()(**self.arguments(ref, timeout, base_url))


def _with_base_url(arguments: dict[str, Any], base_url: str | None) -> dict[str, Any]:
    return {**arguments, "base_url": base_url} if base_url else arguments


def openai_arguments(ref: ModelRef, timeout: float, base_url: str | None) -> dict[str, Any]:
    """ChatOpenAI: the model, a request timeout, no client retries; base URL if compatible."""
    return _with_base_url({"model": ref.model, "timeout": timeout, "max_retries": 0}, base_url)


def anthropic_arguments(ref: ModelRef, timeout: float, base_url: str | None) -> dict[str, Any]:
    """ChatAnthropic: the model, a request timeout, no client retries."""
    return _with_base_url({"model": ref.model, "timeout": timeout, "max_retries": 0}, base_url)


def ollama_arguments(ref: ModelRef, timeout: float, base_url: str | None) -> dict[str, Any]:
    """ChatOllama: the model and an httpx timeout (its client makes no retries)."""
    return _with_base_url({"model": ref.model, "client_kwargs": {"timeout": timeout}}, base_url)


def fake_arguments(ref: ModelRef, timeout: float, base_url: str | None) -> dict[str, Any]:
    """ScriptedChatModel: the script registered under the model name."""
    from factory_agents.llm.fakes import script_for

    return {
        "label": ref.label,
        "script": script_for(ref.model),
        "timeout": timeout,
        "max_retries": 0,
    }


PROVIDERS: dict[str, ProviderSpec] = {
    "openai": ProviderSpec("openai", "langchain_openai", "ChatOpenAI", "openai", openai_arguments),
    "anthropic": ProviderSpec(
        "anthropic", "langchain_anthropic", "ChatAnthropic", "anthropic", anthropic_arguments
    ),
    "ollama": ProviderSpec("ollama", "langchain_ollama", "ChatOllama", "ollama", ollama_arguments),
    "fake": ProviderSpec(
        "fake", "factory_agents.llm.fakes", "ScriptedChatModel", None, fake_arguments
    ),
}
"""Providers by the name used in `provider:model`."""


@dataclass(frozen=True)
class ConfiguredModel:
    """A built chat model and the configured name it answers to."""

    ref: ModelRef
    chat: BaseChatModel

    @property
    def label(self) -> str:
        """`provider:model`."""
        return self.ref.label


def _labelled(runnable: Runnable[Any, Any], label: str) -> Runnable[Any, Any]:
    """`runnable` tagged with its model's label, so usage records name the model that served."""
    return runnable.with_config(metadata={MODEL_METADATA_KEY: label}, run_name=label)


def _chain(runnables: Sequence[Runnable[Any, Any]]) -> Runnable[Any, Any]:
    """The first runnable, falling back to the next ones in order when it raises."""
    first, *rest = runnables
    return first.with_fallbacks(rest) if rest else first


class TaskModels:
    """The models of one task, first choice first, ready to be bound and chained."""

    def __init__(self, task: TaskKind, models: Sequence[ConfiguredModel]) -> None:
        if not models:
            raise ValueError(f"task {task} needs at least one model")
        self.task = task
        self.models = tuple(models)

    @property
    def labels(self) -> list[str]:
        """The models' `provider:model` names, in fallback order."""
        return [model.label for model in self.models]

    def plain(self) -> Runnable[LanguageModelInput, AIMessage]:
        """The models without tools, with fallbacks."""
        return _chain([_labelled(m.chat, m.label) for m in self.models])

    def with_tools(self, tools: Sequence[BaseTool]) -> Runnable[LanguageModelInput, AIMessage]:
        """The models with `tools` bound (the same tools for each), with fallbacks."""
        return _chain([_labelled(m.chat.bind_tools(list(tools)), m.label) for m in self.models])

    def structured(
        self, schema: type[M], *, on_rejected: RejectionHook | None = None
    ) -> Runnable[LanguageModelInput, M]:
        """The models answering as `schema` (function calling), falling back on bad answers too."""
        chains = []
        for model in self.models:
            ask = model.chat.with_structured_output(
                schema, method="function_calling", include_raw=True
            )
            chains.append(_labelled(ask | _require(schema, model.label, on_rejected), model.label))
        return _chain(chains)


def _require(schema: type[M], label: str, on_rejected: RejectionHook | None) -> Runnable[Any, M]:
    """A step passing a parsed answer of `schema` on, refusing anything else as malformed."""

    def check(output: Any) -> M:
        parsed = output.get("parsed") if isinstance(output, dict) else output
        if isinstance(parsed, schema):
            return parsed
        problem = output.get("parsing_error") if isinstance(output, dict) else None
        reason = (
            f"{label} answered outside the {schema.__name__} schema"
            f" ({_short(problem) if problem else 'no structured answer'}); the answer was refused"
        )
        if on_rejected is not None:
            on_rejected(label, reason)
        raise ModelOutputError(reason)

    return RunnableLambda(check, name=f"require_{schema.__name__}")


def _short(error: BaseException | object) -> str:
    text = str(error).replace("\n", " ")
    return text if len(text) <= 300 else text[:300] + " …"


class ModelRouter:
    """Builds the chat models of each task from the configuration (None when it has none)."""

    def __init__(
        self, config: LlmConfig, *, providers: Mapping[str, ProviderSpec] | None = None
    ) -> None:
        self.config = config
        self._providers = providers

    @property
    def configured(self) -> bool:
        """True when any task has a model."""
        return self.config.configured

    def providers(self) -> Mapping[str, ProviderSpec]:
        """The provider registry in use (the module's PROVIDERS unless one was given)."""
        return self._providers if self._providers is not None else PROVIDERS

    def build(self, ref: ModelRef) -> BaseChatModel:
        """A fresh chat model for `ref`; LlmConfigurationError for an unknown provider."""
        providers = self.providers()
        spec = providers.get(ref.provider)
        if spec is None:
            raise LlmConfigurationError(
                f"unknown provider {ref.provider!r} in {ref.label}; known providers:"
                f" {', '.join(sorted(providers))}"
            )
        return spec.create(
            ref,
            timeout=self.config.timeout_seconds,
            base_url=self.config.endpoints.get(ref.provider),
        )

    def for_task(self, task: TaskKind) -> TaskModels | None:
        """The task's models, freshly built, or None when the task has no model."""
        refs = self.config.models_for(task)
        if not refs:
            return None
        return TaskModels(task, [ConfiguredModel(ref, self.build(ref)) for ref in refs])

    def check(self) -> list[str]:
        """Build every configured model once (imports, arguments); the labels that built."""
        for label in self.config.labels():
            self.build(ModelRef.parse(label))
        return self.config.labels()

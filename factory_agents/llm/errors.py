"""Errors of the language layer; every message says what was wrong and what to do.

FactoryAgentsError
└── LanguageModelError          anything the language layer refuses or cannot do
    ├── LlmConfigurationError   FACTORY_LLM_* settings or a price file that cannot be used
    │   └── ProviderNotInstalled    a configured provider whose pip extra is missing
    ├── ModelCallError          every model configured for a task failed (worth retrying)
    ├── ModelOutputError        a model answered outside the schema asked for (malformed)
    ├── ToolCallRefused         a tool call outside the allow-list, or with invalid arguments
    ├── DraftRefused            a drafted action that fails the schema or the guardrails
    └── UnfaithfulExplanation   an explanation citing numbers the evidence does not hold
"""

from __future__ import annotations

from factory_agents.errors import ConfigurationError, FactoryAgentsError


class LanguageModelError(FactoryAgentsError):
    """Root of the language layer's errors."""


class LlmConfigurationError(LanguageModelError, ConfigurationError):
    """FACTORY_LLM_* settings or a price table that cannot be used as given."""


class ProviderNotInstalled(LlmConfigurationError):
    """A provider is configured but its langchain package (pip extra) is not installed."""


class ModelCallError(LanguageModelError):
    """Every model configured for a task failed; Temporal may retry the activity."""


class ModelOutputError(LanguageModelError):
    """A model's answer did not fit the strict schema it was asked for."""


class ToolCallRefused(LanguageModelError):
    """A tool call that was not executed: unknown tool, off the allow-list, or bad arguments."""


class DraftRefused(LanguageModelError):
    """A drafted action that fails its schema or the guardrails; nothing was recorded."""


class UnfaithfulExplanation(LanguageModelError):
    """An explanation citing numbers that are not in the proposal's evidence."""

    def __init__(self, message: str, *, numbers: list[str] | None = None) -> None:
        super().__init__(message)
        self.numbers = list(numbers or [])

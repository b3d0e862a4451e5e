"""Agents found through the `factory_agents.agents` entry point group, checked on load."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel

from factory_agents.agent import Agent, AgentSpec
from factory_agents.errors import ConfigurationError

AGENTS_GROUP = "factory_agents.agents"


def agent_specs() -> dict[str, AgentSpec]:
    """Every installed agent spec by name; a broken or duplicate one is a ConfigurationError."""
    specs: dict[str, AgentSpec] = {}
    for point in entry_points(group=AGENTS_GROUP):
        try:
            spec = point.load()
        except Exception as err:
            raise ConfigurationError(
                f"agent entry point {point.name!r} ({point.value}) failed to load: {err}."
                " Reinstall or uninstall the package that provides it."
            ) from err
        check_spec(point.name, spec)
        if spec.name in specs:
            raise ConfigurationError(f"two installed agents are both named {spec.name!r}")
        specs[spec.name] = spec
    return specs


def check_spec(entry_name: str, spec: object) -> None:
    """Raise ConfigurationError unless `spec` is a usable AgentSpec."""
    if not isinstance(spec, AgentSpec):
        raise ConfigurationError(f"entry point {entry_name!r} is not an AgentSpec: {spec!r}")
    if not (isinstance(spec.config_model, type) and issubclass(spec.config_model, BaseModel)):
        raise ConfigurationError(f"agent {spec.name!r}: config_model is not a pydantic model")
    if not callable(spec.factory):
        raise ConfigurationError(f"agent {spec.name!r}: factory is not callable")


def build_agents(configs: Mapping[str, Mapping[str, Any]]) -> dict[str, Agent]:
    """Instantiate the configured agents from their installed specs."""
    specs = agent_specs()
    missing = sorted(set(configs) - set(specs))
    if missing:
        raise ConfigurationError(
            f"configured agents {missing} are not installed; installed: {sorted(specs)}"
        )
    return {name: specs[name].create(dict(config)) for name, config in configs.items()}

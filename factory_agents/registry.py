"""Agents and connectors found through their entry point groups, checked on load.

Agents: `factory_agents.agents` (AgentSpec). Connectors: `factory_agents.connectors`
(connectors.spec.ConnectorSpec, imported lazily: the domain does not depend on connectors).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from factory_agents.agent import Agent, AgentSpec
from factory_agents.errors import ConfigurationError

if TYPE_CHECKING:
    from connectors.spec import ConnectorSpec

AGENTS_GROUP = "factory_agents.agents"
CONNECTORS_GROUP = "factory_agents.connectors"


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


@dataclass(frozen=True)
class InstalledConnector:
    """A connector spec with the entry point and distribution that provide it."""

    spec: ConnectorSpec
    entry_point: str
    distribution: str


def connector_specs() -> dict[str, ConnectorSpec]:
    """Every installed connector spec by name; a broken or duplicate one is a ConfigurationError."""
    return {name: found.spec for name, found in installed_connectors().items()}


def installed_connectors() -> dict[str, InstalledConnector]:
    """Every installed connector by name, with where it comes from, checked like agents."""
    found: dict[str, InstalledConnector] = {}
    for point in entry_points(group=CONNECTORS_GROUP):
        try:
            spec = point.load()
        except Exception as err:
            raise ConfigurationError(
                f"connector entry point {point.name!r} ({point.value}) failed to load: {err}."
                " Reinstall or uninstall the package that provides it."
            ) from err
        check_connector_spec(point.name, spec)
        if spec.name in found:
            other = found[spec.name]
            raise ConfigurationError(
                f"two installed connectors are both named {spec.name!r}: {other.entry_point}"
                f" ({other.distribution}) and {point.value} ({_distribution(point)});"
                " uninstall one of them"
            )
        found[spec.name] = InstalledConnector(spec, point.value, _distribution(point))
    return found


def check_connector_spec(entry_name: str, spec: object) -> None:
    """Raise ConfigurationError unless `spec` is a usable ConnectorSpec."""
    from connectors.spec import PORTS, ConnectorSpec

    if not isinstance(spec, ConnectorSpec):
        raise ConfigurationError(f"entry point {entry_name!r} is not a ConnectorSpec: {spec!r}")
    if not (isinstance(spec.config_model, type) and issubclass(spec.config_model, BaseModel)):
        raise ConfigurationError(f"connector {spec.name!r}: config_model is not a pydantic model")
    if not callable(spec.factory):
        raise ConfigurationError(f"connector {spec.name!r}: factory is not callable")
    unknown = [port for port in spec.provides if port not in PORTS]
    if not spec.provides or unknown:
        raise ConfigurationError(
            f"connector {spec.name!r}: provides must name at least one port of {list(PORTS)};"
            f" got {list(spec.provides)}"
        )


def _distribution(point: EntryPoint) -> str:
    """The name of the distribution an entry point comes from, or '?' when unknown."""
    dist = point.dist
    return dist.name if dist is not None else "?"

"""What a connector is to the platform: its spec, found through the `factory_agents.connectors`
entry point group, like agents are through `factory_agents.agents`.

A spec names the connector, says which ports (connectors/base.py) the objects its factory
builds provide, and how to configure it: `config_model` (pydantic) validates the plain
config (a YAML or JSON file, or settings), and `factory` builds the connector from the
validated model. A connector needing setup and teardown is an async context manager
(``async with``); one holding resources without that has an ``aclose()`` or ``close()``.

Example (an integrator's package ``acme_mes_connector``)::

    # acme_mes_connector/__init__.py
    class AcmeMesConfig(BaseModel):
        base_url: str
        token: str

    class AcmeMes:                       # implements MesSource (fetch) and MesWriter
        def __init__(self, config: AcmeMesConfig) -> None: ...
        async def fetch(self, kinds, since, until) -> MesData: ...
        ...

    SPEC = ConnectorSpec(
        name="acme_mes",
        version="1.2.0",
        description="ACME MES over its REST API",
        config_model=AcmeMesConfig,
        factory=AcmeMes,
        provides=("mes", "mes_writes"),
    )

    # pyproject.toml of the integrator's distribution
    [project.entry-points."factory_agents.connectors"]
    acme_mes = "acme_mes_connector:SPEC"

`factory-agents connectors list` then shows it, and the conformance suite
(``pytest --connector acme_mes``, see connectors/testing) checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ValidationError

from factory_agents.errors import ConfigurationError

Port = Literal["tags", "tag_writes", "mes", "mes_writes"]
"""A port of connectors/base.py: TagSource, TagWriter, MesSource, MesWriter."""

PORTS: tuple[Port, ...] = get_args(Port)

PORT_PROTOCOLS: dict[Port, str] = {
    "tags": "TagSource",
    "tag_writes": "TagWriter",
    "mes": "MesSource",
    "mes_writes": "MesWriter",
}
"""The protocol in connectors.base behind each port name."""


@dataclass(frozen=True)
class ConnectorSpec:
    """A connector's identity card: found through the `factory_agents.connectors` entry point."""

    name: str
    version: str
    description: str
    config_model: type[BaseModel]
    factory: Callable[[Any], Any]
    provides: tuple[Port, ...]

    def config(self, data: dict[str, Any] | None = None) -> BaseModel:
        """The config model validated from plain data; invalid data is a ConfigurationError."""
        try:
            return self.config_model.model_validate(data or {})
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in err.errors()
            )
            raise ConfigurationError(
                f"connector {self.name!r}: the configuration is not valid: {problems}"
            ) from err

    def create(self, config: dict[str, Any] | None = None) -> Any:
        """Build the connector from a plain config dict, validated by its config model."""
        return self.factory(self.config(config))

"""How the simulated plant runs: endpoint (and whether it is free), speed, seed, tick, MES,
and, optionally, security."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.simulator.security import SimulatorSecurity
from factory_agents.errors import ConnectorError


class SimulatorConfig(BaseModel):
    """How to run the simulated plant: where it listens, how fast it runs, its seed."""

    model_config = ConfigDict(frozen=True)

    endpoint: str = "opc.tcp://127.0.0.1:4840/factory-agents/"
    speed: float = Field(10.0, gt=0, description="Simulated seconds per real second")
    seed: int = 7
    tick_seconds: float = Field(0.1, gt=0, le=5.0, description="Real seconds between updates")
    history_size: int = Field(5000, gt=0, description="Values kept per historized node")
    mes_url: str | None = Field(None, description="SQLAlchemy URL of the MES database to seed")
    state_file: Path | None = Field(
        None, description="Where the line's state is kept across restarts; None: start afresh"
    )
    scenarios: tuple[str, ...] | None = Field(
        None, description="Only the scenarios of these names; None: every one of the default site"
    )
    security: SimulatorSecurity | None = Field(
        None, description="None: unsecured and anonymous (the local simulator); else secured"
    )

    @field_validator("endpoint")
    @classmethod
    def _endpoint_has_host_and_port(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme != "opc.tcp" or not parsed.hostname or parsed.port is None:
            raise ValueError(
                f"endpoint {value!r} must look like opc.tcp://<host>:<port>/<path>,"
                " e.g. opc.tcp://127.0.0.1:4840/factory-agents/"
            )
        return value


def ensure_port_free(endpoint: str) -> None:
    """Raise ConnectorError if the endpoint's port cannot be listened on (busy, bad host)."""
    parsed = urlparse(endpoint)
    try:
        infos = socket.getaddrinfo(
            parsed.hostname, parsed.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        family, kind, protocol, _name, address = infos[0]
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as err:
        raise cannot_listen(endpoint, err) from err


def cannot_listen(endpoint: str, err: OSError) -> ConnectorError:
    """The error for a simulator that cannot listen on its endpoint."""
    return ConnectorError(
        f"the plant simulator cannot listen on {endpoint}: {err}. Is another server using"
        " that port? Choose a free port in the endpoint."
    )

"""Specs of the built-in tag connectors (OPC UA, MQTT Sparkplug B), registered under
`factory_agents.connectors`. Their packages are imported only when a connector is built, so
listing connectors does not load asyncua or paho-mqtt."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors.spec import ConnectorSpec
from factory_agents.policy import Policy

VERSION = "0.1.0"


class OpcUaConfig(BaseModel):
    """An OPC UA server: endpoint, guardrails for writes, timeouts and security."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str = "opc.tcp://127.0.0.1:4840/factory-agents/"
    policy: Policy = Field(default_factory=Policy)
    timeout: float = Field(5.0, gt=0)
    stale_after: float | None = Field(None, gt=0)
    security: dict[str, Any] | None = Field(
        None, description="connectors.opcua.security.OpcUaSecurity fields; none = local simulator"
    )


class SparkplugConfig(BaseModel):
    """One Sparkplug B group on an MQTT broker, and the guardrails for writes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group_id: str
    broker: str = "mqtt://127.0.0.1:1883"
    policy: Policy = Field(default_factory=Policy)
    host_id: str | None = None
    timeout: float = Field(5.0, gt=0)


def opcua_connector(config: OpcUaConfig) -> Any:
    """An OpcUaConnector from its config (an async context manager)."""
    from connectors.opcua.connector import OpcUaConnector
    from connectors.opcua.security import LOCAL_SIMULATOR, OpcUaSecurity

    security = LOCAL_SIMULATOR
    if config.security is not None:
        security = OpcUaSecurity.model_validate(config.security)
    return OpcUaConnector(
        config.endpoint,
        policy=config.policy,
        timeout=config.timeout,
        security=security,
        stale_after=config.stale_after,
    )


def sparkplug_connector(config: SparkplugConfig) -> Any:
    """A SparkplugConnector from its config (an async context manager)."""
    from connectors.mqtt.connector import SparkplugConnector

    return SparkplugConnector(
        config.group_id,
        broker=config.broker,
        policy=config.policy,
        host_id=config.host_id,
        timeout=config.timeout,
    )


OPCUA_SPEC = ConnectorSpec(
    name="opcua",
    version=VERSION,
    description="An OPC UA server: batched reads, history, guarded and verified setpoint writes",
    config_model=OpcUaConfig,
    factory=opcua_connector,
    provides=("tags", "tag_writes"),
)

SPARKPLUG_SPEC = ConnectorSpec(
    name="mqtt_sparkplug",
    version=VERSION,
    description="A Sparkplug B group on an MQTT broker: live values, history since connecting,"
    " guarded writes through DCMD/NCMD",
    config_model=SparkplugConfig,
    factory=sparkplug_connector,
    provides=("tags", "tag_writes"),
)

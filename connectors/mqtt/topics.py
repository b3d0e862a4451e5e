"""Sparkplug B topics (spBv1.0/<group>/<type>/<edge node>[/<device>]) and the connector's tags.

A tag names one metric of one edge node or device, in the same namespace as its topics::

    spBv1.0/<group>/<edge node>/<device>/<metric name>    a device's metric
    spBv1.0/<group>/<edge node>//<metric name>            the edge node's own metric

The metric name is everything after the fourth slash and may contain slashes itself
("Inputs/Temperature", "Node Control/Rebirth"); group, edge node and device ids cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from factory_agents.errors import ConfigurationError

NAMESPACE = "spBv1.0"
_FORBIDDEN = ("/", "+", "#")


class MessageType(StrEnum):
    """The Sparkplug B message types that travel on edge node and device topics."""

    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    NDATA = "NDATA"
    DDATA = "DDATA"
    NCMD = "NCMD"
    DCMD = "DCMD"


DEVICE_TYPES = frozenset(
    {MessageType.DBIRTH, MessageType.DDEATH, MessageType.DDATA, MessageType.DCMD}
)


@dataclass(frozen=True)
class Topic:
    """A parsed edge node or device topic; `device_id` is None for node messages."""

    group_id: str
    message_type: MessageType
    edge_node_id: str
    device_id: str | None = None

    def __post_init__(self) -> None:
        check_id("group id", self.group_id)
        check_id("edge node id", self.edge_node_id)
        is_device = self.message_type in DEVICE_TYPES
        if is_device and self.device_id is None:
            raise ConfigurationError(
                f"a {self.message_type} topic needs a device id:"
                f" {NAMESPACE}/{self.group_id}/{self.message_type}/{self.edge_node_id}/<device>"
            )
        if not is_device and self.device_id is not None:
            raise ConfigurationError(
                f"a {self.message_type} topic is for the edge node itself and takes no device id;"
                f" got device {self.device_id!r}"
            )
        if self.device_id is not None:
            check_id("device id", self.device_id)

    def __str__(self) -> str:
        parts = [NAMESPACE, self.group_id, self.message_type.value, self.edge_node_id]
        if self.device_id is not None:
            parts.append(self.device_id)
        return "/".join(parts)


@dataclass(frozen=True)
class StateTopic:
    """A host application's STATE topic (Sparkplug 3.0): spBv1.0/STATE/<host id>."""

    host_id: str

    def __post_init__(self) -> None:
        check_id("host id", self.host_id)

    def __str__(self) -> str:
        return f"{NAMESPACE}/STATE/{self.host_id}"


@dataclass(frozen=True)
class TagAddress:
    """Where a tag's value comes from: group, edge node, device (None: the node) and metric."""

    group_id: str
    edge_node_id: str
    device_id: str | None
    metric: str

    def __post_init__(self) -> None:
        check_id("group id", self.group_id)
        check_id("edge node id", self.edge_node_id)
        if self.device_id is not None:
            check_id("device id", self.device_id)
        if not self.metric:
            raise ConfigurationError("a tag needs a metric name after the device segment")

    def __str__(self) -> str:
        device = self.device_id if self.device_id is not None else ""
        return f"{NAMESPACE}/{self.group_id}/{self.edge_node_id}/{device}/{self.metric}"


def check_id(kind: str, value: str) -> str:
    """`value` if it can be a Sparkplug group, edge node, device or host id, else an error."""
    if not value or any(char in value for char in _FORBIDDEN):
        raise ConfigurationError(
            f"{value!r} cannot be a Sparkplug {kind}: it must be a non-empty string without"
            " '/', '+' or '#'"
        )
    return value


def parse_topic(topic: str) -> Topic | StateTopic:
    """The Sparkplug B topic `topic`, or ConfigurationError saying why it is not one."""
    parts = topic.split("/")
    expected = (
        f"{NAMESPACE}/<group>/<message type>/<edge node>[/<device>] or {NAMESPACE}/STATE/<host id>"
    )
    if parts[0] != NAMESPACE:
        raise ConfigurationError(
            f"{topic!r} is not a Sparkplug B topic: it must start with {NAMESPACE}/ ({expected})"
        )
    if len(parts) == 3 and parts[1] == "STATE":
        return StateTopic(parts[2])
    if len(parts) not in (4, 5):
        raise ConfigurationError(
            f"{topic!r} is not a Sparkplug B topic: it has {len(parts)} levels, expected {expected}"
        )
    try:
        message_type = MessageType(parts[2])
    except ValueError as err:
        known = ", ".join(MessageType)
        raise ConfigurationError(
            f"{topic!r} is not a Sparkplug B topic: {parts[2]!r} is not a message type ({known})"
        ) from err
    device = parts[4] if len(parts) == 5 else None
    return Topic(parts[1], message_type, parts[3], device)


def parse_tag(tag: str) -> TagAddress:
    """The address of a tag written as documented in this module, or ConfigurationError."""
    parts = tag.split("/", 4)
    if len(parts) != 5 or parts[0] != NAMESPACE:
        raise ConfigurationError(
            f"{tag!r} is not a Sparkplug tag; write {NAMESPACE}/<group>/<edge node>/<device>/"
            f"<metric> for a device's metric or {NAMESPACE}/<group>/<edge node>//<metric> for"
            " the edge node's own"
        )
    _namespace, group, edge, device, metric = parts
    return TagAddress(group, edge, device or None, metric)


def tag_of(group_id: str, edge_node_id: str, device_id: str | None, metric: str) -> str:
    """The tag of one metric (see the module docstring)."""
    return str(TagAddress(group_id, edge_node_id, device_id, metric))

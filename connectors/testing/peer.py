"""What the conformance suite needs to know about the peer a connector talks to in a test.

An integrator's `conformance_peer` fixture starts (or points at) a system with known data and
returns a ConformancePeer describing it: the config entries only known at run time (a port,
a file path), and for each port the connector provides, data the suite can rely on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from factory_agents.actions import DispatchEntry
from factory_agents.isa95 import MesKind
from factory_agents.policy import SetpointLimit


@dataclass(frozen=True)
class TagData:
    """Tags the peer has: current values, and one tag with history inside a window."""

    tags: tuple[str, ...]
    history_tag: str
    history_start: datetime
    history_end: datetime
    values: Mapping[str, float] = field(default_factory=dict)
    """Current values the reads must return (GOOD), for tags whose value is known exactly."""
    unknown_tag: str = "conformance/no-such-tag"
    """A tag the peer does not have."""


@dataclass(frozen=True)
class TagWriteData:
    """One allow-listed setpoint (with room for a step either way) and one node not allowed."""

    node_id: str
    limit: SetpointLimit
    """Its entry in the connector's policy; give it no minimum interval between writes."""
    not_allowed: str
    """A node the peer has but the connector's policy does not allow-list."""
    read_value: Callable[[str], Awaitable[float]] | None = None
    """The live value of a node; leave None when the connector is also a TagSource."""


@dataclass(frozen=True)
class MesReadData:
    """A time window and the kinds of MES records the peer has in it (each at least one)."""

    since: datetime
    until: datetime
    kinds: tuple[MesKind, ...]


@dataclass(frozen=True)
class MesWriteData:
    """Master data the peer has, so the suite can write consistent and inconsistent actions."""

    now: datetime
    """The MES's current time: requisitions and orders are due a few days after it."""
    holdable_lots: tuple[str, ...]
    """Released or quarantined lots (at least one)."""
    unholdable_lot: str
    """A consumed or blocked lot: holding it is an illegal status change."""
    material_id: str
    material_unit: str
    other_unit: str
    """A unit the material is not kept in."""
    supplier_id: str
    equipment_id: str
    """Equipment a maintenance order can be for."""
    line_id: str
    dispatch: DispatchEntry
    """An operation of a work order on the equipment it runs on (its times are replaced)."""
    site_id: str = "site1"


@dataclass(frozen=True)
class ConformancePeer:
    """A running peer with known data, as the integrator's `conformance_peer` fixture returns.

    `config` is merged over the connector's config file (it holds what only the running peer
    knows, such as its port); `connector` is a ready-made connector to check instead of one
    built from a spec (for connectors without one, such as the fakes).
    """

    config: Mapping[str, Any] = field(default_factory=dict)
    tags: TagData | None = None
    tag_writes: TagWriteData | None = None
    mes: MesReadData | None = None
    mes_writes: MesWriteData | None = None
    connector: Any = None

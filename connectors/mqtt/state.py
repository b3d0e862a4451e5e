"""A Sparkplug host application's view of one group: births, deaths, aliases, seq and staleness.

Pure bookkeeping, no I/O: the connector feeds it every message it receives and asks it for
samples, for the live value behind a write, and whether an edge node must be asked to rebirth.

- NBIRTH/DBIRTH define each metric's name, alias and datatype and give current values.
- NDATA/DDATA update values by alias (or by name when the birth gave no alias).
- NDEATH whose bdSeq matches the NBIRTH's (the broker's will of that session) marks the node and
  its devices offline; DDEATH marks one device offline. Their values are kept, as UNCERTAIN.
- A seq that does not follow the previous message (0-255, wrapping), a message without seq or an
  alias the births did not define marks the node stale (UNCERTAIN) until its next NBIRTH, and
  `apply` returns why the node should be asked to rebirth.
- Data from a node or device without a birth in this session is ignored, counted, and also
  answered with a rebirth request.
- A metric's "Quality" property (Sparkplug 3.0: 192 good, 500 stale, 0 bad; other values read
  as OPC DA quality bits) applies to the value it comes with; a value without one is good.
  Its "engUnit" property, if any, is kept as the metric's unit.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.mqtt.datatypes import MetricValue, as_type, number_of
from connectors.mqtt.payload import Metric, Payload
from connectors.mqtt.topics import MessageType, TagAddress, Topic, tag_of
from factory_agents.errors import DataQualityError
from factory_agents.plant import Quality, Sample

BD_SEQ = "bdSeq"
REBIRTH = "Node Control/Rebirth"
QUALITY = "Quality"
UNIT = "engUnit"
QUALITY_STALE = 500  # Sparkplug 3.0 quality codes: 0 bad, 192 good, 500 stale
SEQ_MODULUS = 256
_NAN = float("nan")


@dataclass
class MetricState:
    """What the births and data said about one metric; `update` is the message that set it."""

    name: str
    alias: int | None
    datatype: int | None
    value: MetricValue
    is_null: bool
    quality_code: int | None
    unit: str | None
    source_time: datetime
    update: int


@dataclass
class DeviceState:
    """One device of an edge node: its metrics, and why it is offline (None when online)."""

    metrics: dict[str, MetricState] = field(default_factory=dict)
    offline: str | None = "no DBIRTH received yet"
    born: bool = False


@dataclass
class NodeState:
    """One edge node: its metrics, devices, aliases, bdSeq, last seq and condition."""

    metrics: dict[str, MetricState] = field(default_factory=dict)
    devices: dict[str, DeviceState] = field(default_factory=dict)
    aliases: dict[int, tuple[str | None, str]] = field(default_factory=dict)
    bd_seq: int | None = None
    seq: int | None = None
    offline: str | None = "no NBIRTH received yet"
    stale: str | None = None
    rebirth_requested_at: datetime | None = None
    born: bool = False


class HostState:
    """The edge nodes and devices of one Sparkplug group, as their messages describe them."""

    def __init__(self, group_id: str, *, history_size: int = 10_000) -> None:
        self.group_id = group_id
        self.history_size = history_size
        self.nodes: dict[str, NodeState] = {}
        self.stats: Counter[str] = Counter()
        self.message_index = 0
        self._history: dict[str, deque[Sample]] = {}

    def apply(self, topic: Topic, payload: Payload, received_at: datetime) -> str | None:
        """Take in one message; return why its edge node should rebirth, or None."""
        self.message_index += 1
        kind, edge = topic.message_type, topic.edge_node_id
        if kind is MessageType.NBIRTH:
            return self._node_birth(edge, payload, received_at)
        if kind is MessageType.NDEATH:
            self._node_death(edge, payload)
            return None
        if kind in (MessageType.NCMD, MessageType.DCMD):
            self.stats["commands_seen"] += 1
            return None
        node = self.nodes.get(edge)
        if node is None or node.offline is not None:
            self.stats["before_birth"] += 1
            return f"{kind} from edge node {edge} before its NBIRTH"
        gap = self._check_seq(node, payload.seq)
        if kind is MessageType.NDATA:
            return self._data(node, edge, None, payload, received_at) or gap
        device_id = topic.device_id
        assert device_id is not None  # Topic guarantees a device id on device messages
        if kind is MessageType.DBIRTH:
            return self._device_birth(node, edge, device_id, payload, received_at) or gap
        device = node.devices.get(device_id)
        if kind is MessageType.DDEATH:
            if device is None:
                self.stats["death_of_unknown_device"] += 1
            else:
                device.offline = "its edge node published DDEATH"
            return gap
        if device is None or device.offline is not None:
            self.stats["before_birth"] += 1
            return gap or f"DDATA from device {edge}/{device_id} before its DBIRTH"
        return self._data(node, edge, device_id, payload, received_at) or gap

    def mark_stale(self, reason: str, edge_node_id: str | None = None) -> None:
        """Mark one edge node (or every one) stale until its next NBIRTH."""
        for edge, node in self.nodes.items():
            if edge_node_id is None or edge == edge_node_id:
                node.stale = node.stale or reason

    def needs_birth(self, address: TagAddress) -> bool:
        """True until the node (and the device, for a device tag) has had a birth this session."""
        node = self.nodes.get(address.edge_node_id)
        if node is None or not node.born:
            return True
        if address.device_id is None:
            return False
        device = node.devices.get(address.device_id)
        return device is None or not device.born

    def stale(self, edge_node_id: str) -> str | None:
        """Why an online edge node is stale (so it still needs a rebirth), or None."""
        node = self.nodes.get(edge_node_id)
        return node.stale if node is not None and node.offline is None else None

    def rebirth_due(self, edge_node_id: str, now: datetime, interval: timedelta) -> bool:
        """True (and remembered) unless a rebirth of the node was asked for within `interval`."""
        node = self.nodes.setdefault(edge_node_id, NodeState())
        last = node.rebirth_requested_at
        if last is not None and now - last < interval:
            self.stats["rebirth_requests_held_back"] += 1
            return False
        node.rebirth_requested_at = now
        self.stats["rebirth_requests"] += 1
        return True

    def rebirth_alias(self, edge_node_id: str) -> int | None:
        """The alias the node's NBIRTH gave 'Node Control/Rebirth', if any."""
        node = self.nodes.get(edge_node_id)
        metric = node.metrics.get(REBIRTH) if node is not None else None
        return metric.alias if metric is not None else None

    def find(self, address: TagAddress) -> MetricState | None:
        """The metric at `address` as last born and updated, or None if no birth defined it."""
        node = self.nodes.get(address.edge_node_id)
        if node is None:
            return None
        if address.device_id is None:
            return node.metrics.get(address.metric)
        device = node.devices.get(address.device_id)
        return device.metrics.get(address.metric) if device is not None else None

    def not_live(self, address: TagAddress) -> str | None:
        """Why values at `address` are not live (offline, stale), or None when they are."""
        node = self.nodes.get(address.edge_node_id)
        name = f"edge node {address.edge_node_id}"
        if node is None or node.offline is not None:
            return f"{name} is offline: {node.offline if node else 'no NBIRTH received yet'}"
        if node.stale is not None:
            return f"{name} is stale ({node.stale}) until its next NBIRTH"
        if address.device_id is None:
            return None
        device = node.devices.get(address.device_id)
        if device is None or device.offline is not None:
            why = device.offline if device is not None else "no DBIRTH received yet"
            return f"device {address.edge_node_id}/{address.device_id} is offline: {why}"
        return None

    def sample(self, address: TagAddress, now: datetime) -> Sample:
        """The current Sample at `address`: GOOD live, UNCERTAIN offline or stale, BAD unknown."""
        metric = self.find(address)
        if metric is None:
            return Sample(tag=str(address), value=_NAN, source_time=now, quality=Quality.BAD)
        return self._sample_of(
            address, metric.value, metric.is_null, metric.quality_code, metric.source_time
        )

    def live(self, address: TagAddress) -> MetricState:
        """The metric at `address` if its value is live and numeric, else DataQualityError."""
        tag = str(address)
        metric = self.find(address)
        if metric is None:
            raise DataQualityError(
                f"{tag}: no birth certificate defines this metric, so there is no live value"
                " to check the proposal against; nothing was written. Check the tag and that"
                " the edge node and device are publishing"
            )
        why = self.not_live(address)
        if why is not None:
            raise DataQualityError(
                f"{tag}: {why}, so its value is uncertain and nothing was written. Wait for the"
                " edge node to come back (a rebirth is requested automatically) and propose again"
            )
        if metric.is_null or number_of(metric.value) is None:
            raise DataQualityError(
                f"{tag}: the live value {metric.value!r} is not a number, so the proposal's"
                " premise cannot be checked; nothing was written"
            )
        if quality_of_code(metric.quality_code) is not Quality.GOOD:
            raise DataQualityError(
                f"{tag}: the edge node reports the value with quality {metric.quality_code}"
                f" ({quality_of_code(metric.quality_code).value}), so the proposal's premise"
                " cannot be checked; nothing was written. Check the device"
            )
        return metric

    def history(self, tag: str, start: datetime, end: datetime) -> list[Sample]:
        """The samples of `tag` received in this session between start and end, by source time."""
        kept = [s for s in self._history.get(tag, ()) if start <= s.source_time <= end]
        return sorted(kept, key=lambda sample: sample.source_time)

    def tags(self) -> list[str]:
        """Every tag a birth certificate has defined so far, sorted."""
        found: list[str] = []
        for edge, node in self.nodes.items():
            found += [tag_of(self.group_id, edge, None, name) for name in node.metrics]
            for device_id, device in node.devices.items():
                found += [tag_of(self.group_id, edge, device_id, name) for name in device.metrics]
        return sorted(found)

    def _node_birth(self, edge: str, payload: Payload, received_at: datetime) -> str | None:
        node = self.nodes.setdefault(edge, NodeState())
        node.bd_seq = _bd_seq(payload.metrics)
        node.seq = payload.seq
        node.offline = node.stale = None
        node.born = True
        node.rebirth_requested_at = None
        node.aliases = {}
        for device in node.devices.values():
            device.offline = "waiting for its DBIRTH after the edge node's NBIRTH"
        node.metrics = self._born(node, edge, None, payload, received_at)
        return None

    def _node_death(self, edge: str, payload: Payload) -> None:
        node = self.nodes.get(edge)
        if node is None:
            self.stats["death_of_unknown_node"] += 1
            return
        bd_seq = _bd_seq(payload.metrics)
        if node.bd_seq is not None and bd_seq is not None and bd_seq != node.bd_seq:
            self.stats["death_of_other_session"] += 1
            return
        node.offline = f"it published NDEATH (bdSeq {bd_seq})"
        for device in node.devices.values():
            device.offline = "its edge node published NDEATH"

    def _device_birth(
        self, node: NodeState, edge: str, device_id: str, payload: Payload, received_at: datetime
    ) -> str | None:
        device = node.devices.setdefault(device_id, DeviceState())
        node.aliases = {a: owner for a, owner in node.aliases.items() if owner[0] != device_id}
        device.offline = None
        device.born = True
        device.metrics = self._born(node, edge, device_id, payload, received_at)
        return None

    def _born(
        self,
        node: NodeState,
        edge: str,
        device_id: str | None,
        payload: Payload,
        received_at: datetime,
    ) -> dict[str, MetricState]:
        metrics: dict[str, MetricState] = {}
        for metric in payload.metrics:
            if metric.name is None:
                self.stats["birth_metric_without_name"] += 1
                continue
            if metric.alias is not None:
                if metric.alias in node.aliases:
                    self.stats["duplicate_alias"] += 1
                    node.stale = node.stale or f"alias {metric.alias} defined twice in its births"
                node.aliases[metric.alias] = (device_id, metric.name)
            unit = metric.properties.get(UNIT)
            state = MetricState(
                name=metric.name,
                alias=metric.alias,
                datatype=metric.datatype,
                value=metric.value,
                is_null=metric.is_null,
                quality_code=_quality_code(metric),
                unit=unit if isinstance(unit, str) else None,
                source_time=_source_time(metric, payload, received_at),
                update=self.message_index,
            )
            metrics[metric.name] = state
            address = TagAddress(self.group_id, edge, device_id, metric.name)
            self._record(address, state.value, state.is_null, state.quality_code, state.source_time)
        return metrics

    def _data(
        self,
        node: NodeState,
        edge: str,
        device_id: str | None,
        payload: Payload,
        received_at: datetime,
    ) -> str | None:
        problem: str | None = None
        owner = node if device_id is None else node.devices[device_id]
        for metric in payload.metrics:
            name = self._resolve(node, device_id, metric)
            known = owner.metrics.get(name) if name is not None else None
            if known is None:
                self.stats["unknown_metric"] += 1
                what = f"alias {metric.alias}" if metric.alias is not None else repr(metric.name)
                where = f"device {device_id}" if device_id is not None else "the edge node"
                problem = f"{what} is not a metric of {where} in its births"
                node.stale = node.stale or problem
                continue
            value = as_type(metric.value, known.datatype)
            code = _quality_code(metric)
            source_time = _source_time(metric, payload, received_at)
            if not metric.is_historical:
                known.value, known.is_null, known.quality_code = value, metric.is_null, code
                known.source_time, known.update = source_time, self.message_index
                unit = metric.properties.get(UNIT)
                known.unit = unit if isinstance(unit, str) else known.unit
            address = TagAddress(self.group_id, edge, device_id, known.name)
            self._record(address, value, metric.is_null, code, source_time)
        return problem

    def _resolve(self, node: NodeState, device_id: str | None, metric: Metric) -> str | None:
        if metric.alias is None:
            return metric.name
        owner, name = node.aliases.get(metric.alias, (None, None))
        return name if name is not None and owner == device_id else None

    def _check_seq(self, node: NodeState, seq: int | None) -> str | None:
        previous = node.seq
        if seq is None:
            problem = "a message without seq"
        else:
            node.seq = seq
            if previous is None or seq == (previous + 1) % SEQ_MODULUS:
                return None
            problem = f"seq {seq} after {previous}: messages were lost or reordered"
        self.stats["seq_gap"] += 1
        node.stale = node.stale or problem
        return problem

    def _record(
        self,
        address: TagAddress,
        value: MetricValue,
        is_null: bool,
        quality_code: int | None,
        source_time: datetime,
    ) -> None:
        tag = str(address)
        samples = self._history.get(tag)
        if samples is None:
            samples = self._history[tag] = deque(maxlen=self.history_size)
        samples.append(self._sample_of(address, value, is_null, quality_code, source_time))

    def _sample_of(
        self,
        address: TagAddress,
        value: MetricValue,
        is_null: bool,
        quality_code: int | None,
        source_time: datetime,
    ) -> Sample:
        tag = str(address)
        number = None if is_null else number_of(value)
        quality = quality_of_code(quality_code)
        if number is None or quality is Quality.BAD:
            return Sample(tag=tag, value=_NAN, source_time=source_time, quality=Quality.BAD)
        if self.not_live(address) is not None:
            quality = Quality.UNCERTAIN
        return Sample(tag=tag, value=number, source_time=source_time, quality=quality)


def quality_of_code(code: int | None) -> Quality:
    """GOOD, UNCERTAIN or BAD for a Sparkplug "Quality" property (None: no property, good)."""
    if code is None:
        return Quality.GOOD
    if code == QUALITY_STALE:
        return Quality.UNCERTAIN
    bits = code & 0xC0  # OPC DA quality: 11 good, 01 uncertain, 00 bad
    if bits == 0xC0:
        return Quality.GOOD
    return Quality.UNCERTAIN if bits == 0x40 else Quality.BAD


def _quality_code(metric: Metric) -> int | None:
    code = metric.properties.get(QUALITY)
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _bd_seq(metrics: Iterable[Metric]) -> int | None:
    for metric in metrics:
        if metric.name == BD_SEQ and isinstance(metric.value, int):
            return int(metric.value)
    return None


def _source_time(metric: Metric, payload: Payload, received_at: datetime) -> datetime:
    """The metric's timestamp, else the payload's, else the time the message arrived."""
    for millis in (metric.timestamp, payload.timestamp):
        if millis is None:
            continue
        try:
            return datetime.fromtimestamp(millis / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            continue
    return received_at

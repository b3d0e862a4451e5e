"""Sparkplug B host application: reads a group's metrics and writes setpoints through DCMD/NCMD."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage, MQTTMessageInfo
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from connectors.base import WriteResult, same_setpoint, write_result
from connectors.mqtt.datatypes import (
    DataType,
    datatype_name,
    is_numeric_setpoint,
    number_of,
    stored_as,
)
from connectors.mqtt.payload import Metric, Payload, decode, encode
from connectors.mqtt.state import REBIRTH, HostState, MetricState
from connectors.mqtt.topics import (
    NAMESPACE,
    MessageType,
    StateTopic,
    TagAddress,
    Topic,
    check_id,
    parse_tag,
    parse_topic,
)
from factory_agents.agent import SetpointChange
from factory_agents.errors import (
    ConfigurationError,
    ConnectorError,
    GuardrailViolation,
    WriteVerificationError,
)
from factory_agents.plant import Sample
from factory_agents.policy import Policy, SetpointLimit

_SUBSCRIBE_QOS = 1  # NDEATH (the edge node's will) and STATE travel at QoS 1
_COMMAND_QOS = 0  # Sparkplug: NCMD and DCMD are published at QoS 0, not retained


class SparkplugConnector:
    """One Sparkplug B group on an MQTT broker as a TagSource and TagWriter (async context manager).

    Tags name metrics as ``spBv1.0/<group>/<edge node>/<device>/<metric name>``, or with an
    empty device (``spBv1.0/<group>/<edge node>//<metric name>``) for the edge node's own
    metrics (see connectors.mqtt.topics). `read` gives GOOD for live values, UNCERTAIN (value
    kept, source time of the metric) while the node or device is dead or stale, BAD with NaN
    for tags no birth certificate defined and for values that are null or not numbers.
    `history` serves the values received since connecting, at most `history_size` per tag,
    from memory: nothing survives a restart. With `host_id`, the connector also publishes a
    Sparkplug 3.0 host STATE (online while connected, offline as its will).

    Example::

        async with SparkplugConnector("Plant1", broker="mqtt://127.0.0.1:1883") as plant:
            samples = await plant.read(["spBv1.0/Plant1/Line1/Filler/FillWeight"])
    """

    def __init__(
        self,
        group_id: str,
        *,
        broker: str = "mqtt://127.0.0.1:1883",
        policy: Policy = Policy(),
        host_id: str | None = None,
        client_id: str | None = None,
        timeout: float = 5.0,
        write_timeout: float = 10.0,
        rebirth_interval: float = 5.0,
        history_size: int = 10_000,
        keepalive: int = 30,
    ) -> None:
        check_id("group id", group_id)
        if host_id is not None:
            check_id("host id", host_id)
        parsed = urlparse(broker)
        if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
            raise ConfigurationError(
                f"{broker!r} is not an MQTT broker address; write it as mqtt://<host>:<port>"
                " (TLS and websockets are not supported yet)"
            )
        for name, value in (
            ("timeout", timeout),
            ("write_timeout", write_timeout),
            ("rebirth_interval", rebirth_interval),
        ):
            if not value > 0:
                raise ConfigurationError(f"{name} must be positive seconds; got {value}")
        if history_size < 1 or keepalive < 5:
            raise ConfigurationError(
                f"history_size must be at least 1 and keepalive at least 5 s; got {history_size}"
                f" and {keepalive}"
            )
        self.group_id = group_id
        self.broker = broker
        self.host = parsed.hostname
        self.port = parsed.port or 1883
        self.policy = policy
        self.host_id = host_id
        self.client_id = client_id or f"factory-agents-{uuid.uuid4().hex[:12]}"
        self.timeout = timeout
        self.write_timeout = write_timeout
        self.rebirth_interval = timedelta(seconds=rebirth_interval)
        self.keepalive = keepalive
        self._state = HostState(group_id, history_size=history_size)
        self._client: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Future[None] | None = None
        self._changed = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._last_writes: dict[str, datetime] = {}
        self._births_asked: set[str] = set()
        self._connected = False
        self._state_timestamp = 0
        self._state_birth: MQTTMessageInfo | None = None

    async def __aenter__(self) -> SparkplugConnector:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def stats(self) -> Counter[str]:
        """Counts of what was ignored or went wrong (before_birth, seq_gap, unknown_metric, ...)."""
        return Counter(self._state.stats)

    @property
    def connected(self) -> bool:
        """True while the MQTT connection is up and subscribed."""
        return self._connected

    def tags(self) -> list[str]:
        """Every tag the birth certificates received so far define, sorted."""
        return self._state.tags()

    async def connect(self) -> None:
        """Connect, subscribe to spBv1.0/<group>/#, and publish STATE online if a host id is set."""
        if self._client is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._ready = self._loop.create_future()
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=True,
            protocol=MQTTProtocolVersion.MQTTv311,
        )
        client.connect_timeout = self.timeout
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        if self.host_id is not None:
            self._state_timestamp = _now_millis()
            client.will_set(self._state_topic, self._state_payload(online=False), 1, retain=True)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        try:
            await asyncio.to_thread(client.connect, self.host, self.port, self.keepalive)
        except (OSError, ValueError) as err:
            raise ConnectorError(
                f"could not connect to the MQTT broker at {self.broker}: {err!r}. Check that the"
                " broker is running, that host and port are right, and that no firewall blocks"
                " the port"
            ) from err
        client.loop_start()
        try:
            async with asyncio.timeout(self.timeout):
                await self._ready
        except BaseException as err:
            await self._stop(client)
            if isinstance(err, TimeoutError):
                raise ConnectorError(
                    f"the MQTT broker at {self.broker} accepted the TCP connection but did not"
                    f" complete the MQTT connection and subscription within {self.timeout:g} s;"
                    " check that it is an MQTT 3.1.1 broker and that it is not overloaded"
                ) from err
            raise
        if self._state_birth is not None:  # STATE online is retained at the broker on return
            await asyncio.to_thread(_wait_published, self._state_birth, self.timeout)
        self._client = client

    async def close(self) -> None:
        """Publish STATE offline if a host id is set, then disconnect (safe to call twice)."""
        client, self._client = self._client, None
        if client is None:
            return
        if self.host_id is not None and self._connected:
            info = client.publish(
                self._state_topic, self._state_payload(online=False), 1, retain=True
            )
            await asyncio.to_thread(_wait_published, info, self.timeout)
        await self._stop(client)
        self._state.mark_stale("the connector was closed")

    async def read(self, node_ids: Sequence[str]) -> list[Sample]:
        """One Sample per tag, in the same order, from the values received so far.

        The first read of a tag whose edge node has not been born since connecting asks that
        node for a rebirth and waits for its births (at most `timeout`, once per node), so a
        connector opened for one read or write sees current values.
        """
        self._require_client()
        addresses = [self._address(tag) for tag in node_ids]
        await self._births_for(addresses)
        now = datetime.now(UTC)
        return [self._state.sample(address, now) for address in addresses]

    async def history(self, node_id: str, start: datetime, end: datetime) -> list[Sample]:
        """Values of one tag received since connecting, between start and end, by source time."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("history start and end must be timezone-aware (UTC)")
        if start > end:
            raise ValueError(f"history start {start.isoformat()} is after end {end.isoformat()}")
        self._require_client()
        return self._state.history(str(self._address(node_id)), start, end)

    async def write_setpoint(
        self, change: SetpointChange, *, last_write_at: datetime | None = None
    ) -> WriteResult:
        """Guarded, idempotent write through DCMD (NCMD for node metrics), confirmed by DATA.

        The guardrails are those of the OPC UA connector: the allow-list entry, a live (GOOD)
        value equal to the proposal's `from_value`, the target within bounds and maximum step,
        as the metric's datatype stores it, in the allow-list's unit when the birth names one
        ("engUnit"), and no sooner than the minimum interval after `last_write_at` (from the
        ledger) or this connector's own last write. Already at the target: nothing is sent.
        """
        limit = self.policy.limit_for(change.node_id)
        if not math.isfinite(change.to_value):
            raise GuardrailViolation(
                f"{change.node_id}: target {change.to_value} is not a finite number; nothing was"
                " written"
            )
        address = self._address(change.node_id)
        self._require_client()
        await self._births_for([address])
        async with self._write_lock:
            known = self._state.find(address)
            if known is not None and not is_numeric_setpoint(known.datatype):
                raise ConnectorError(
                    f"{change.node_id} holds {datatype_name(known.datatype)} values, not"
                    " numbers; a setpoint must be a numeric metric. Check the tag in the policy's"
                    " allow-list"
                )
            metric = self._state.live(address)
            live = _number(metric)
            assert live is not None  # HostState.live only returns numeric metrics
            _check_data_type(limit, change.node_id, metric.datatype)
            target = _as_stored(change.node_id, change.to_value, metric.datatype)
            if same_setpoint(live, float(target)):
                return write_result(change.node_id, live, target, live, already_applied=True)
            if not same_setpoint(live, change.from_value):
                raise GuardrailViolation(
                    f"{change.node_id}: the proposal assumed {change.from_value:g} {change.unit}"
                    f" but the live value is {live:g} {change.unit}; the premise changed and"
                    " nothing was written. Let the agent propose again from the live value"
                )
            limit.check(live, float(target))
            if metric.unit is not None and metric.unit != limit.unit:
                raise GuardrailViolation(
                    f"{change.node_id} is in {metric.unit!r} (its engUnit property) but the"
                    f" allow-list says {limit.unit!r}; nothing was written. Fix the unit in the"
                    " policy"
                )
            stamps = [t for t in (last_write_at, self._last_writes.get(change.node_id)) if t]
            limit.check_interval(max(stamps) if stamps else None, datetime.now(UTC))
            since = self._state.message_index
            self._publish_command(address, metric, target)
            self._last_writes[change.node_id] = datetime.now(UTC)
            read_back = await self._confirmation(change, address, since, float(target))
        return write_result(change.node_id, live, target, read_back, already_applied=False)

    @property
    def _state_topic(self) -> str:
        assert self.host_id is not None
        return str(StateTopic(self.host_id))

    def _state_payload(self, *, online: bool) -> bytes:
        return json.dumps({"online": online, "timestamp": self._state_timestamp}).encode()

    def _require_client(self) -> Client:
        if self._client is None:
            raise ConnectorError(
                f"the connector for Sparkplug group {self.group_id!r} on {self.broker} is not"
                " connected; use `async with SparkplugConnector(...)` or call connect() first"
            )
        return self._client

    def _address(self, tag: str) -> TagAddress:
        address = parse_tag(tag)
        if address.group_id != self.group_id:
            raise ConfigurationError(
                f"{tag!r} belongs to Sparkplug group {address.group_id!r}, but this connector"
                f" subscribes to group {self.group_id!r}; use a connector for that group"
            )
        return address

    def _publish_command(
        self, address: TagAddress, metric: MetricState, value: int | float | bool
    ) -> None:
        # Sparkplug 3.0: a command names the metric by its alias alone when the birth gave one.
        # The datatype goes along (a SHOULD NOT, not a MUST NOT) so that edge nodes which decode
        # commands without their birth's types still read signed integers right.
        name = None if metric.alias is not None else metric.name
        command = Metric(name=name, alias=metric.alias, datatype=metric.datatype, value=value)
        kind = MessageType.DCMD if address.device_id is not None else MessageType.NCMD
        topic = Topic(self.group_id, kind, address.edge_node_id, address.device_id)
        payload = Payload(timestamp=_now_millis(), metrics=(command,))
        self._publish(str(topic), encode(payload), str(address))

    def _publish(self, topic: str, data: bytes, what: str) -> None:
        client = self._client
        if client is None or not self._connected:
            raise ConnectorError(
                f"not connected to the MQTT broker at {self.broker}, so {what} was not written;"
                " the connector reconnects by itself, try again once it has"
            )
        info = client.publish(topic, data, _COMMAND_QOS, retain=False)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise ConnectorError(
                f"the MQTT client refused to publish to {topic} ({info.rc.name}), so {what} was"
                " not written; check the connection to the broker and try again"
            )

    async def _births_for(self, addresses: Sequence[TagAddress]) -> None:
        """Ask unborn edge nodes for a rebirth, once each, and wait (bounded) for their births."""
        waiting = [
            address
            for address in addresses
            if address.edge_node_id not in self._births_asked and self._state.needs_birth(address)
        ]
        if not waiting:
            return
        for edge_node_id in dict.fromkeys(address.edge_node_id for address in waiting):
            self._births_asked.add(edge_node_id)
            self._request_rebirth(edge_node_id, "first use since connecting")
        with contextlib.suppress(TimeoutError):  # still unborn: its tags read BAD, writes refused
            async with asyncio.timeout(self.timeout):
                while True:
                    changed = self._changed
                    if not any(self._state.needs_birth(address) for address in waiting):
                        return
                    await changed.wait()

    async def _confirmation(
        self, change: SetpointChange, address: TagAddress, since: int, target: float
    ) -> float:
        """The value a DATA message reported after the command, once it equals the target."""
        last: float | None = None
        try:
            async with asyncio.timeout(self.write_timeout):
                while True:
                    changed = self._changed
                    metric = self._state.find(address)
                    if metric is not None and metric.update > since:
                        last = _number(metric)
                        if last is not None and same_setpoint(last, target):
                            return last
                    await changed.wait()
        except TimeoutError as err:
            kind = "DCMD" if address.device_id is not None else "NCMD"
            reported = (
                f"the last value it reported is {last:g} {change.unit}"
                if last is not None
                else "it reported no new value"
            )
            raise WriteVerificationError(
                f"{change.node_id}: sent {target:g} {change.unit} in a {kind} but no DATA message"
                f" confirmed it within {self.write_timeout:g} s ({reported}). The command may or"
                " may not have been applied; check the device before trying again"
            ) from err

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _request_rebirth(self, edge_node_id: str, reason: str) -> None:
        if not self._state.rebirth_due(edge_node_id, datetime.now(UTC), self.rebirth_interval):
            return
        alias = self._state.rebirth_alias(edge_node_id)
        name = REBIRTH if alias is None else None
        metric = Metric(name=name, alias=alias, datatype=DataType.BOOLEAN, value=True)
        payload = Payload(timestamp=_now_millis(), metrics=(metric,))
        topic = Topic(self.group_id, MessageType.NCMD, edge_node_id)
        try:
            self._publish(str(topic), encode(payload), f"a rebirth request ({reason})")
        except ConnectorError:
            self._state.stats["rebirth_requests_not_sent"] += 1

    # Everything below runs on the event loop, called from paho's network thread through _post.

    def _handle_message(self, topic_name: str, data: bytes, received_at: datetime) -> None:
        try:
            topic = parse_topic(topic_name)
        except ConfigurationError:
            self._state.stats["not_sparkplug"] += 1
            return
        if isinstance(topic, StateTopic):
            self._handle_state(topic, data)
            return
        if topic.group_id != self.group_id:
            return
        try:
            payload = decode(data)
        except ConnectorError:
            self._state.stats["undecodable"] += 1
            self._state.mark_stale("a payload could not be decoded", topic.edge_node_id)
            self._request_rebirth(topic.edge_node_id, "undecodable payload")
            self._notify()
            return
        reason = self._state.apply(topic, payload, received_at)
        if reason is None and topic.message_type is not MessageType.NCMD:
            reason = self._state.stale(topic.edge_node_id)  # ask again if a request got lost
        if reason is not None:
            self._request_rebirth(topic.edge_node_id, reason)
        self._notify()

    def _handle_state(self, topic: StateTopic, data: bytes) -> None:
        """Answer another client's offline STATE for our host id with our online STATE again."""
        if self.host_id is None or topic.host_id != self.host_id or not self._connected:
            return
        try:
            online = bool(json.loads(data).get("online"))
        except (ValueError, AttributeError):
            online = False
        if not online and self._client is not None:
            self._client.publish(
                self._state_topic, self._state_payload(online=True), 1, retain=True
            )

    def _connection_ready(self) -> None:
        first = self._ready is not None and not self._ready.done()
        self._connected = True
        if first:
            assert self._ready is not None
            self._ready.set_result(None)
            return
        for edge_node_id in list(self._state.nodes):
            self._request_rebirth(edge_node_id, "reconnected to the broker")

    def _connection_lost(self, why: str) -> None:
        self._connected = False
        self._state.mark_stale(f"the connection to the broker was lost ({why})")
        self._notify()

    def _connection_refused(self, why: str) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(
                ConnectorError(
                    f"the MQTT broker at {self.broker} refused the connection: {why}. Check the"
                    " broker's access rules for anonymous clients and this client id"
                )
            )

    # paho-mqtt callbacks (network thread): hand everything over to the event loop.

    def _post(self, callback: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between check and call
            loop.call_soon_threadsafe(callback, *args)

    def _on_connect(
        self,
        client: Client,
        userdata: Any,
        flags: ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._post(self._connection_refused, str(reason))
            return
        topics = [(f"{NAMESPACE}/{self.group_id}/#", _SUBSCRIBE_QOS)]
        if self.host_id is not None:
            topics.append((self._state_topic, _SUBSCRIBE_QOS))
        client.subscribe(topics)

    def _on_subscribe(
        self,
        client: Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        if any(reason.is_failure for reason in reasons):
            self._post(self._connection_refused, "subscription to the group refused")
            return
        if self.host_id is not None:
            self._state_birth = client.publish(
                self._state_topic, self._state_payload(online=True), 1, retain=True
            )
        self._post(self._connection_ready)

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        self._post(self._handle_message, message.topic, bytes(message.payload), datetime.now(UTC))

    def _on_disconnect(
        self,
        client: Client,
        userdata: Any,
        flags: DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._post(self._connection_lost, str(reason))

    async def _stop(self, client: Client) -> None:
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)
        self._connected = False


def _wait_published(info: MQTTMessageInfo, timeout: float) -> None:
    # Not connected any more: the broker publishes the will, which says the same.
    with contextlib.suppress(RuntimeError, ValueError):
        info.wait_for_publish(timeout)


def _as_stored(tag: str, target: float, datatype: int | None) -> int | float | bool:
    try:
        return stored_as(target, datatype)
    except TypeError as err:  # checked before: is_numeric_setpoint
        raise ConnectorError(f"{tag}: {err}") from err
    except ValueError as err:
        raise GuardrailViolation(f"{tag}: {err}; nothing was written") from err


def _check_data_type(limit: SetpointLimit, tag: str, datatype: int | None) -> None:
    """Refuse a metric whose datatype is not the one its allow-list entry names, if it names one."""
    expected = getattr(limit, "data_type", None)  # the field policy.SetpointLimit may get
    if expected and str(expected) != datatype_name(datatype):
        raise GuardrailViolation(
            f"{tag} holds {datatype_name(datatype)} values but the allow-list says {expected};"
            " nothing was written. Check the tag and the policy"
        )


def _number(metric: MetricState) -> float | None:
    return None if metric.is_null else number_of(metric.value)


def _now_millis() -> int:
    return time.time_ns() // 1_000_000

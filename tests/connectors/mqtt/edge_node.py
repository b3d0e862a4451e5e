"""A simulated Sparkplug B edge node and a broker observer, each on its own paho-mqtt client.

The edge node connects with its NDEATH (bdSeq) as MQTT will, publishes NBIRTH and DBIRTHs with
aliases and seq 0, 1, 2..., DATA by alias, answers 'Node Control/Rebirth' with new births and
DCMD/NCMD by applying the value and reporting it in DDATA/NDATA. Both talk to the Mosquitto
broker on 127.0.0.1:1883 and keep what they receive for the tests to look at.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion

from connectors.mqtt.datatypes import DataType, MetricValue, PropertyValue
from connectors.mqtt.payload import Metric, Payload, decode, encode
from connectors.mqtt.topics import MessageType, Topic, parse_topic

BROKER_HOST, BROKER_PORT = "127.0.0.1", 1883
WAIT = 5.0
REBIRTH = "Node Control/Rebirth"


@dataclass
class SimMetric:
    """One metric of the simulated edge node or of one of its devices."""

    name: str
    alias: int
    datatype: DataType
    value: MetricValue
    properties: dict[str, PropertyValue] = field(default_factory=dict)


def _client(prefix: str) -> Client:
    return Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"{prefix}-{uuid.uuid4().hex[:10]}",
        clean_session=True,
        reconnect_on_failure=False,
    )


def _subscribe(client: Client, topics: list[tuple[str, int]]) -> None:
    subscribed = threading.Event()
    client.on_subscribe = lambda *_args: subscribed.set()
    client.connect(BROKER_HOST, BROKER_PORT, keepalive=10)
    client.loop_start()
    client.subscribe(topics)
    if not subscribed.wait(WAIT):
        raise TimeoutError(f"no SUBACK from the broker at {BROKER_HOST}:{BROKER_PORT}")


def _millis() -> int:
    return time.time_ns() // 1_000_000


class SimulatedEdgeNode:
    """An edge node with devices that births, publishes data, dies and answers commands."""

    def __init__(
        self,
        group_id: str,
        edge_node_id: str,
        node_metrics: list[SimMetric],
        devices: dict[str, list[SimMetric]],
        *,
        bd_seq: int = 0,
    ) -> None:
        self.group_id = group_id
        self.edge_node_id = edge_node_id
        self.node_metrics = {metric.name: metric for metric in node_metrics}
        self.devices = {d: {m.name: m for m in metrics} for d, metrics in devices.items()}
        self.bd_seq = bd_seq
        self.answer_commands = True
        self.answer_rebirth = True
        self.commands: list[tuple[Topic, Payload]] = []
        self._seq = 0
        self._lock = threading.RLock()
        self._client: Client | None = None

    def start(self, *, birth: bool = True) -> None:
        """Connect with NDEATH as will, subscribe to NCMD and DCMD, and publish the births."""
        client = _client(f"edge-{self.edge_node_id}")
        death = Payload(timestamp=_millis(), metrics=(self._bd_seq_metric(),))
        client.will_set(self._topic(MessageType.NDEATH), encode(death), qos=1, retain=False)
        client.on_message = self._on_message
        commands = self._topic(MessageType.NCMD), self._topic(MessageType.DCMD, "+")
        _subscribe(client, [(commands[0], 0), (commands[1], 0)])
        self._client = client
        if birth:
            self.birth()
            self.sync()

    def sync(self) -> None:
        """Return once the broker has processed everything this edge node published so far.

        The broker handles one client's packets in order, so the PUBACK of a QoS 1 message on
        a topic outside Sparkplug means every earlier message has been routed.
        """
        marker = f"factory-agents-tests/sync/{self.group_id}"
        self._require_client().publish(marker, b"", qos=1).wait_for_publish(WAIT)

    def birth(self) -> None:
        """NBIRTH (seq 0, bdSeq, 'Node Control/Rebirth') then a DBIRTH for every device."""
        with self._lock:
            self._seq = 0
            node = (self._bd_seq_metric(), *self._defined(self.node_metrics.values()))
            self._send(MessageType.NBIRTH, None, node)
            for device in self.devices:
                self.device_birth(device)

    def device_birth(self, device: str) -> None:
        """A DBIRTH with every metric of `device`: name, alias, datatype and value."""
        self._send(MessageType.DBIRTH, device, self._defined(self.devices[device].values()))

    def data(
        self,
        device: str | None,
        values: dict[str, MetricValue],
        *,
        skip: int = 0,
        properties: dict[str, PropertyValue] | None = None,
    ) -> None:
        """DDATA (NDATA without device) by alias; `skip` seq numbers are left out before it."""
        with self._lock:
            metrics = self.devices[device] if device is not None else self.node_metrics
            updates = []
            for name, value in values.items():
                metrics[name].value = value
                alias, now = metrics[name].alias, _millis()
                updates.append(
                    Metric(alias=alias, timestamp=now, value=value, properties=properties or {})
                )
            self._seq = (self._seq + skip) % 256
            kind = MessageType.DDATA if device is not None else MessageType.NDATA
            self._send(kind, device, tuple(updates))

    def device_death(self, device: str) -> None:
        """DDEATH for one device."""
        self._send(MessageType.DDEATH, device, ())

    def die(self) -> None:
        """Drop the TCP connection without DISCONNECT: the broker publishes the NDEATH will."""
        client = self._require_client()
        sock = client.socket()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)
        client.loop_stop()
        self._client = None

    def stop(self) -> None:
        """Disconnect (if still connected) and stop the network thread."""
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()

    def commands_of(self, kind: MessageType) -> list[Payload]:
        """The payloads of the NCMD or DCMD messages received so far, in order."""
        with self._lock:
            return [payload for topic, payload in self.commands if topic.message_type is kind]

    def _bd_seq_metric(self) -> Metric:
        return Metric(name="bdSeq", alias=0, datatype=DataType.INT64, value=self.bd_seq)

    def _defined(self, metrics: Any) -> tuple[Metric, ...]:
        now = _millis()
        return tuple(
            Metric(
                name=m.name,
                alias=m.alias,
                timestamp=now,
                datatype=m.datatype,
                value=m.value,
                properties=m.properties,
            )
            for m in metrics
        )

    def _topic(self, kind: MessageType, device: str | None = None) -> str:
        return f"spBv1.0/{self.group_id}/{kind}/{self.edge_node_id}" + (
            f"/{device}" if device is not None else ""
        )

    def _send(self, kind: MessageType, device: str | None, metrics: tuple[Metric, ...]) -> None:
        with self._lock:
            payload = Payload(timestamp=_millis(), metrics=metrics, seq=self._seq)
            self._seq = (self._seq + 1) % 256
            self._require_client().publish(self._topic(kind, device), encode(payload), qos=0)

    def _require_client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the simulated edge node is not connected")
        return self._client

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        topic = parse_topic(message.topic)
        assert isinstance(topic, Topic)
        payload = decode(message.payload)
        with self._lock:
            self.commands.append((topic, payload))
            if topic.message_type is MessageType.NCMD and self._is_rebirth(payload):
                if self.answer_rebirth:
                    self.birth()
                return
            if not self.answer_commands:
                return
            metrics = self.devices[topic.device_id] if topic.device_id else self.node_metrics
            by_alias = {metric.alias: metric for metric in metrics.values()}
            values: dict[str, MetricValue] = {}
            for command in payload.metrics:
                known = by_alias.get(command.alias) if command.alias is not None else None
                name = known.name if known is not None else command.name
                if name in metrics:
                    values[name] = command.value
            self.data(topic.device_id, values)

    def _is_rebirth(self, payload: Payload) -> bool:
        rebirth = self.node_metrics[REBIRTH].alias
        return any(
            (m.name == REBIRTH or m.alias == rebirth) and m.value is True for m in payload.metrics
        )


class BrokerObserver:
    """A plain MQTT client that records every message of one topic filter, as the broker sends."""

    def __init__(self, topic_filter: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._client = _client("observer")
        self._client.on_message = self._on_message
        _subscribe(self._client, [(topic_filter, 1)])

    def of_type(self, kind: MessageType) -> list[tuple[str, Payload]]:
        """The decoded Sparkplug messages of one type received so far."""
        with self._lock:
            found = [(t, data) for t, data, _retained in self.messages if f"/{kind}/" in t + "/"]
        return [(topic, decode(data)) for topic, data in found]

    def raw(self) -> list[tuple[str, bytes, bool]]:
        """(topic, payload, retained) of every message received so far."""
        with self._lock:
            return list(self.messages)

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self._client.disconnect()
        self._client.loop_stop()

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))


async def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait until `check()` is true, polling; after WAIT seconds, fail saying what did not."""
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"within {WAIT:g} s: {what}")
        await asyncio.sleep(0.01)

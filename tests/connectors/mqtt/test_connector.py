"""SparkplugConnector against a simulated edge node on the real Mosquitto at 127.0.0.1:1883."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import TagSource, TagWriter
from connectors.mqtt import SparkplugConnector
from connectors.mqtt.datatypes import DataType
from connectors.mqtt.topics import MessageType
from factory_agents.agent import SetpointChange
from factory_agents.errors import (
    ConfigurationError,
    ConnectorError,
    DataQualityError,
    GuardrailViolation,
    WriteVerificationError,
)
from factory_agents.plant import Quality, Sample
from tests.conftest import free_port
from tests.connectors.mqtt.edge_node import (
    WAIT,
    BrokerObserver,
    SimulatedEdgeNode,
    eventually,
)
from tests.connectors.mqtt.reference_proto import ReferencePayload
from tests.connectors.mqtt.site import BROKER, policy_for, tag

SETPOINT = "Fill Weight Setpoint"
LINE_SPEED = "Line Speed Setpoint"


def _change(
    group: str, from_value: float, to_value: float, metric: str = SETPOINT
) -> SetpointChange:
    device = None if metric == LINE_SPEED else "Filler"
    return SetpointChange(
        action_id=f"act-{uuid.uuid4().hex[:6]}",
        node_id=tag(group, device, metric),
        from_value=from_value,
        to_value=to_value,
        unit="g",
    )


async def _one(connector: SparkplugConnector, tag_: str) -> Sample:
    (sample,) = await connector.read([tag_])
    return sample


async def _settled(
    connector: SparkplugConnector, tag_: str, quality: Quality, value: float | None = None
) -> Sample:
    """The tag's sample once it has `quality` (and `value`), or an AssertionError after WAIT."""
    deadline = time.monotonic() + WAIT
    while True:
        sample = await _one(connector, tag_)
        if sample.quality is quality and (value is None or sample.value == value):
            return sample
        if time.monotonic() > deadline:
            raise AssertionError(f"{tag_} did not become {quality} {value}: {sample}")
        await asyncio.sleep(0.01)


async def _started(edge: SimulatedEdgeNode, connector: SparkplugConnector) -> None:
    """Start the edge node and wait until the connector has taken in its births."""
    edge.start()  # not read(): reading a node not yet seen born asks it for a rebirth
    last = tag(edge.group_id, "Capper", "Torque")
    await eventually(lambda: last in connector.tags(), "the births of the edge node")


def test_satisfies_the_ports() -> None:
    connector = SparkplugConnector("Plant1")
    assert isinstance(connector, TagSource)
    assert isinstance(connector, TagWriter)


async def test_bad_arguments_are_refused_clearly(connector: SparkplugConnector) -> None:
    with pytest.raises(ConfigurationError, match="not an MQTT broker address"):
        SparkplugConnector("Plant1", broker="http://127.0.0.1:1883")
    with pytest.raises(ConfigurationError, match="cannot be a Sparkplug group id"):
        SparkplugConnector("Plant/1")
    with pytest.raises(ConfigurationError, match="write_timeout must be positive"):
        SparkplugConnector("Plant1", write_timeout=0)
    with pytest.raises(ConnectorError, match="not connected"):
        await SparkplugConnector("Plant1").read(["spBv1.0/Plant1/E/D/M"])
    with pytest.raises(ConfigurationError, match="belongs to Sparkplug group 'Other'"):
        await connector.read(["spBv1.0/Other/E/D/M"])
    with pytest.raises(ConfigurationError, match="is not a Sparkplug tag"):
        await connector.read(["ns=2;s=Line1.Filler.Speed"])
    now = datetime.now(UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        await connector.history(
            tag(connector.group_id, "Filler", SETPOINT), now.replace(tzinfo=None), now
        )
    with pytest.raises(ValueError, match="is after end"):
        await connector.history(
            tag(connector.group_id, "Filler", SETPOINT), now, now - timedelta(1)
        )


async def test_an_unreachable_broker_is_a_connector_error_naming_it() -> None:
    broker = f"mqtt://127.0.0.1:{free_port()}"
    with pytest.raises(ConnectorError, match=broker) as raised:
        async with SparkplugConnector("Plant1", broker=broker, timeout=1.0):
            pass
    assert "broker is running" in str(raised.value)
    assert isinstance(raised.value.__cause__, OSError)


async def test_births_give_good_values_with_aliases_resolved_and_data_by_alias(
    connector: SparkplugConnector, edge: SimulatedEdgeNode, group: str
) -> None:
    before = datetime.now(UTC)
    await _started(edge, connector)
    tags = [
        tag(group, "Filler", "Fill Weight"),
        tag(group, "Filler", SETPOINT),
        tag(group, "Filler", "Valve/Open"),
        tag(group, "Filler", "Temperature Offset"),
        tag(group, "Filler", "Recipe"),
        tag(group, None, LINE_SPEED),
        tag(group, "Filler", "No Such Metric"),
    ]
    weight, setpoint, valve, offset, recipe, speed, missing = await connector.read(tags)
    assert [s.tag for s in (weight, setpoint, valve, offset, recipe, speed, missing)] == tags
    for sample, value in ((weight, 502.25), (setpoint, 500.0), (valve, 1.0), (offset, -5.0)):
        assert (sample.quality, sample.value) == (Quality.GOOD, value)
    assert (speed.quality, speed.value) == (Quality.GOOD, 60.0)
    assert recipe.quality is Quality.BAD and math.isnan(recipe.value)  # a string, not a number
    assert missing.quality is Quality.BAD and math.isnan(missing.value)
    assert before - timedelta(seconds=1) <= weight.source_time <= datetime.now(UTC)
    assert tag(group, None, "bdSeq") in connector.tags() and tags[0] in connector.tags()

    edge.data("Filler", {"Fill Weight": 503.5, "Temperature Offset": -7})  # alias only
    sample = await _settled(connector, tags[0], Quality.GOOD, 503.5)
    assert (await _one(connector, tags[3])).value == -7.0
    history = await connector.history(tags[0], before - timedelta(seconds=1), datetime.now(UTC))
    assert [s.value for s in history] == [502.25, 503.5]
    assert history[-1] == sample
    assert connector.stats["unknown_metric"] == 0 and connector.stats["seq_gap"] == 0


async def test_ddeath_makes_the_device_uncertain_and_refuses_writes(
    connector: SparkplugConnector, edge: SimulatedEdgeNode, group: str
) -> None:
    await _started(edge, connector)
    edge.device_death("Filler")
    weight = await _settled(connector, tag(group, "Filler", "Fill Weight"), Quality.UNCERTAIN)
    assert weight.value == 502.25  # kept, flagged
    assert (await _one(connector, tag(group, "Capper", "Torque"))).quality is Quality.GOOD
    with pytest.raises(DataQualityError, match="Filler is offline: its edge node published DDEATH"):
        await connector.write_setpoint(_change(group, 500.0, 501.0))

    edge.device_birth("Filler")
    await _settled(connector, tag(group, "Filler", "Fill Weight"), Quality.GOOD)
    await connector.write_setpoint(_change(group, 500.0, 501.0))
    # The broker delivers one client's messages in order: had the refused write published
    # anything, the edge node would have seen it before this one.
    assert [p.metrics[0].value for p in edge.commands_of(MessageType.DCMD)] == [501.0]


async def test_ndeath_from_the_brokers_will_makes_everything_uncertain_until_a_new_session(
    connector: SparkplugConnector, edge: SimulatedEdgeNode, group: str, observer: BrokerObserver
) -> None:
    await _started(edge, connector)
    edge.die()
    speed = await _settled(connector, tag(group, None, LINE_SPEED), Quality.UNCERTAIN)
    weight = await _one(connector, tag(group, "Filler", "Fill Weight"))
    assert (speed.value, weight.quality, weight.value) == (60.0, Quality.UNCERTAIN, 502.25)
    ((_topic, death),) = observer.of_type(MessageType.NDEATH)
    assert [(m.name, m.value) for m in death.metrics] == [("bdSeq", 0)]
    with pytest.raises(
        DataQualityError, match=r"Line1 is offline: it published NDEATH \(bdSeq 0\)"
    ):
        await connector.write_setpoint(_change(group, 500.0, 501.0))
    with pytest.raises(DataQualityError, match="offline"):
        await connector.write_setpoint(_change(group, 60.0, 62.0, LINE_SPEED))

    edge.bd_seq = 1
    edge.start()
    await _settled(connector, tag(group, "Filler", "Fill Weight"), Quality.GOOD)
    assert observer.of_type(MessageType.DCMD) == observer.of_type(MessageType.NCMD) == []


async def test_a_seq_gap_marks_the_node_stale_and_requests_a_rebirth(
    connector: SparkplugConnector, edge: SimulatedEdgeNode, group: str, observer: BrokerObserver
) -> None:
    await _started(edge, connector)
    edge.answer_rebirth = False
    edge.data("Filler", {"Fill Weight": 504.0}, skip=2)
    weight = await _settled(connector, tag(group, "Filler", "Fill Weight"), Quality.UNCERTAIN)
    assert weight.value == 504.0  # the value arrived, but messages before it were lost
    assert (await _one(connector, tag(group, "Capper", "Torque"))).quality is Quality.UNCERTAIN
    await eventually(lambda: len(observer.of_type(MessageType.NCMD)) == 1, "a rebirth request")
    ((topic, request),) = observer.of_type(MessageType.NCMD)
    assert topic == f"spBv1.0/{group}/NCMD/Line1"
    ((metric),) = request.metrics
    assert (metric.name, metric.alias, metric.value) == (None, 1, True)  # alias of the NBIRTH
    assert connector.stats["seq_gap"] == 1
    with pytest.raises(DataQualityError, match="stale"):
        await connector.write_setpoint(_change(group, 500.0, 501.0))
    await asyncio.sleep(0.25)  # the connector's rebirth_interval
    edge.data("Filler", {"Fill Weight": 504.5})  # in sequence, but the node is still stale
    await eventually(lambda: len(observer.of_type(MessageType.NCMD)) == 2, "a second request")
    assert (await _one(connector, tag(group, "Filler", "Fill Weight"))).quality is Quality.UNCERTAIN

    edge.birth()  # the rebirth: NBIRTH with seq 0 and every DBIRTH again
    await _settled(connector, tag(group, "Filler", "Fill Weight"), Quality.GOOD, 504.5)
    assert (await _one(connector, tag(group, "Capper", "Torque"))).quality is Quality.GOOD


async def test_an_unknown_alias_gets_the_node_reborn_by_itself(
    connector: SparkplugConnector, edge: SimulatedEdgeNode, group: str
) -> None:
    await _started(edge, connector)
    edge.devices["Filler"]["Fill Weight"].alias = 99  # the edge node's aliases changed
    edge.data("Filler", {"Fill Weight": 505.0})
    await eventually(lambda: connector.stats["unknown_metric"] == 1, "the unknown alias counted")
    # The edge node answers the rebirth request; its births define alias 99, so the value is live.
    await _settled(connector, tag(group, "Filler", "Fill Weight"), Quality.GOOD, 505.0)
    assert len(edge.commands_of(MessageType.NCMD)) == 1
    edge.data("Filler", {"Fill Weight": 506.0})
    await _settled(connector, tag(group, "Filler", "Fill Weight"), Quality.GOOD, 506.0)


async def test_data_before_a_birth_is_ignored_counted_and_answered_with_a_rebirth_request(
    group: str, edge: SimulatedEdgeNode
) -> None:
    edge.start()  # its births went out before the connector subscribed
    async with SparkplugConnector(group, broker=BROKER, rebirth_interval=0.2) as connector:
        edge.data("Filler", {"Fill Weight": 501.0})
        await eventually(lambda: connector.stats["before_birth"] == 1, "the DDATA counted")
        await eventually(lambda: bool(connector.tags()), "the births that answer the request")
        assert len(edge.commands_of(MessageType.NCMD)) == 1
        await _settled(connector, tag(group, "Filler", "Fill Weight"), Quality.GOOD, 501.0)
        assert connector.stats["before_birth"] == 1


async def test_a_connector_opened_for_one_read_or_write_asks_for_births_first(
    group: str, edge: SimulatedEdgeNode
) -> None:
    edge.start()  # born long before; a connector per activity has seen none of it
    async with SparkplugConnector(group, broker=BROKER, timeout=1.0) as reader:
        weight, unknown = await reader.read(
            [tag(group, "Filler", "Fill Weight"), f"spBv1.0/{group}/Line9/Filler/Fill Weight"]
        )
        assert (weight.quality, weight.value) == (Quality.GOOD, 502.25)
        assert unknown.quality is Quality.BAD  # Line9 never answered within the timeout
        started = time.monotonic()
        (again,) = await reader.read([f"spBv1.0/{group}/Line9/Filler/Fill Weight"])
        assert again.quality is Quality.BAD and time.monotonic() - started < 0.5  # asked once
    async with SparkplugConnector(group, policy=policy_for(group), write_timeout=2.0) as writer:
        result = await writer.write_setpoint(_change(group, 500.0, 501.0))
        assert (result.before, result.read_back) == (500.0, 501.0)
    assert len(edge.commands_of(MessageType.NCMD)) == 2  # one rebirth request per connector


async def test_a_write_within_the_guardrails_is_sent_as_dcmd_and_confirmed_by_ddata(
    connector: SparkplugConnector, edge: SimulatedEdgeNode, group: str, observer: BrokerObserver
) -> None:
    await _started(edge, connector)
    result = await connector.write_setpoint(_change(group, 500.0, 501.5))
    assert (result.node_id, result.before, result.written, result.read_back) == (
        tag(group, "Filler", SETPOINT),
        500.0,
        501.5,
        501.5,
    )
    assert result.already_applied is False and result.at.tzinfo is not None
    ((topic, command),) = observer.of_type(MessageType.DCMD)
    assert topic == f"spBv1.0/{group}/DCMD/Line1/Filler"
    ((metric),) = command.metrics
    assert (metric.name, metric.alias, metric.value) == (None, 11, 501.5)  # alias only
    assert command.timestamp is not None and command.seq is None
    assert edge.devices["Filler"][SETPOINT].value == 501.5
    assert (await _one(connector, tag(group, "Filler", SETPOINT))).value == 501.5

    again = await connector.write_setpoint(_change(group, 500.0, 501.5))  # a retried action
    assert (again.already_applied, again.before, again.read_back) == (True, 501.5, 501.5)
    await connector.write_setpoint(_change(group, 501.5, 503.0))
    assert [p.metrics[0].value for p in edge.commands_of(MessageType.DCMD)] == [501.5, 503.0]


async def test_integer_and_node_setpoints(
    connector: SparkplugConnector, edge: SimulatedEdgeNode, group: str, observer: BrokerObserver
) -> None:
    await _started(edge, connector)
    result = await connector.write_setpoint(_change(group, -5.0, -3.0, "Temperature Offset"))
    assert (result.written, result.read_back) == (-3.0, -3.0)
    (data,) = [payload for topic, payload, _retained in observer.raw() if "/DCMD/" in topic]
    (wire,) = ReferencePayload.FromString(data).metrics
    assert (wire.alias, wire.int_value) == (13, 0xFFFF_FFFD)  # Int16 -3, two's complement
    assert wire.datatype == DataType.INT16

    result = await connector.write_setpoint(_change(group, 60.0, 64.0, LINE_SPEED))
    assert (result.node_id, result.read_back) == (tag(group, None, LINE_SPEED), 64.0)
    ((topic, command),) = observer.of_type(MessageType.NCMD)
    assert topic == f"spBv1.0/{group}/NCMD/Line1"
    assert (command.metrics[0].alias, command.metrics[0].value) == (2, 64.0)


async def test_writes_outside_the_guardrails_are_refused_and_publish_nothing(
    connector: SparkplugConnector, edge: SimulatedEdgeNode, group: str
) -> None:
    await _started(edge, connector)
    refused = [
        (_change(group, 500.0, 530.0), GuardrailViolation, "outside its bounds"),
        (_change(group, 500.0, 505.0), GuardrailViolation, "exceeds the maximum step"),
        (_change(group, 502.25, 503.0, "Fill Weight"), GuardrailViolation, "not on the allow-list"),
        (_change(group, 499.0, 501.0), GuardrailViolation, "the premise changed"),
        (_change(group, -5.0, -2.5, "Temperature Offset"), GuardrailViolation, "whole numbers"),
        (_change(group, 0.0, 1.0, "Recipe"), ConnectorError, "holds String values, not numbers"),
    ]
    for change, error, message in refused:
        with pytest.raises(error, match=message) as raised:
            await connector.write_setpoint(change)
        assert "nothing was written" in str(raised.value) or error is ConnectorError
    await connector.write_setpoint(_change(group, 500.0, 499.0))
    # One client's messages reach a subscriber in order, so the edge node would have seen a
    # command from any refused write before this one.
    assert [p.metrics[0].value for p in edge.commands_of(MessageType.DCMD)] == [499.0]


async def test_a_device_that_never_confirms_is_a_verification_error(
    connector: SparkplugConnector, edge: SimulatedEdgeNode, group: str
) -> None:
    await _started(edge, connector)
    edge.answer_commands = False
    started = time.monotonic()
    with pytest.raises(WriteVerificationError, match="may or may not have been applied") as raised:
        await connector.write_setpoint(_change(group, 500.0, 501.0))
    assert 2.0 <= time.monotonic() - started < 4.0  # the connector's write_timeout
    assert "it reported no new value" in str(raised.value)
    assert [p.metrics[0].value for p in edge.commands_of(MessageType.DCMD)] == [501.0]
    assert (await _one(connector, tag(group, "Filler", SETPOINT))).value == 500.0


async def test_a_host_id_publishes_state_online_and_offline(group: str) -> None:
    host_id = f"fa-host-{uuid.uuid4().hex[:12]}"
    state_topic = f"spBv1.0/STATE/{host_id}"
    try:
        async with SparkplugConnector(group, broker=BROKER, host_id=host_id):
            late = BrokerObserver(state_topic)  # subscribes after: gets the retained STATE
            try:
                await eventually(lambda: bool(late.raw()), "the retained STATE online")
                ((_topic, online, retained),) = late.raw()
            finally:
                late.stop()
        watching = BrokerObserver(state_topic)
        try:
            await eventually(lambda: bool(watching.raw()), "the retained STATE offline")
            ((_topic, offline, _retained),) = watching.raw()
        finally:
            watching.stop()
    finally:
        cleaner = BrokerObserver(state_topic)
        cleaner._client.publish(state_topic, b"", qos=1, retain=True).wait_for_publish(WAIT)
        cleaner.stop()
    birth, death = json.loads(online), json.loads(offline)
    assert retained and birth["online"] is True and death["online"] is False
    assert birth["timestamp"] == death["timestamp"] > 0  # Sparkplug 3.0: the will's timestamp


async def test_the_quality_property_flags_values_and_blocks_writes(
    connector: SparkplugConnector, edge: SimulatedEdgeNode, group: str
) -> None:
    await _started(edge, connector)
    setpoint = tag(group, "Filler", SETPOINT)
    edge.data("Filler", {SETPOINT: 500.0}, properties={"Quality": 500})  # stale at the device
    sample = await _settled(connector, setpoint, Quality.UNCERTAIN)
    assert sample.value == 500.0
    with pytest.raises(DataQualityError, match="quality 500"):
        await connector.write_setpoint(_change(group, 500.0, 501.0))
    edge.data("Filler", {SETPOINT: 500.0}, properties={"Quality": 0})
    bad = await _settled(connector, setpoint, Quality.BAD)
    assert math.isnan(bad.value)
    edge.data("Filler", {SETPOINT: 500.0})  # no Quality property: good again
    await _settled(connector, setpoint, Quality.GOOD, 500.0)
    await connector.write_setpoint(_change(group, 500.0, 501.0))
    assert [p.metrics[0].value for p in edge.commands_of(MessageType.DCMD)] == [501.0]


async def test_a_unit_other_than_the_allow_lists_and_a_write_too_soon_are_refused(
    group: str, edge: SimulatedEdgeNode
) -> None:
    async with SparkplugConnector(group, policy=policy_for(group, unit="kg")) as in_kg:
        await _started(edge, in_kg)
        with pytest.raises(GuardrailViolation, match=r"is in 'g' .* allow-list says 'kg'"):
            await in_kg.write_setpoint(_change(group, 500.0, 501.0))
    policy = policy_for(group, min_interval=3600)
    async with SparkplugConnector(group, policy=policy, write_timeout=2.0) as hourly:
        await _settled(hourly, tag(group, "Filler", SETPOINT), Quality.GOOD)  # after a rebirth
        ledger_says = datetime.now(UTC) - timedelta(seconds=60)
        with pytest.raises(GuardrailViolation, match="last changed 60 s ago"):
            await hourly.write_setpoint(_change(group, 500.0, 501.0), last_write_at=ledger_says)
        await hourly.write_setpoint(_change(group, 500.0, 501.0))
        with pytest.raises(GuardrailViolation, match="one change every 3600 s"):
            await hourly.write_setpoint(_change(group, 501.0, 502.0))
    assert [p.metrics[0].value for p in edge.commands_of(MessageType.DCMD)] == [501.0]


async def test_a_lost_broker_connection_makes_values_uncertain_until_rebirth(
    connector: SparkplugConnector, edge: SimulatedEdgeNode, group: str
) -> None:
    await _started(edge, connector)
    client = connector._client  # the test cuts the connector's TCP connection under it
    assert client is not None
    sock = client.socket()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)
    weight = await _settled(connector, tag(group, "Filler", "Fill Weight"), Quality.UNCERTAIN)
    assert weight.value == 502.25
    # paho reconnects after a second; the connector then asks every known node to rebirth.
    await _settled(connector, tag(group, "Filler", "Fill Weight"), Quality.GOOD)
    assert connector.connected
    assert len(edge.commands_of(MessageType.NCMD)) == 1

"""Other data types, a device that does not keep a written value, and paged history reads."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from asyncua import ua
from asyncua.server.address_space import NodeData
from asyncua.server.history import HistoryDict
from asyncua.server.server import Server
from asyncua.ua.attribute_ids import AttributeIds

from connectors.opcua import OpcUaConnector
from factory_agents.agent import SetpointChange
from factory_agents.errors import ConnectorError, GuardrailViolation, WriteVerificationError
from factory_agents.plant import Quality
from factory_agents.policy import Policy, SetpointLimit

FLOAT = "ns=2;s=Odd.Float"
INT32 = "ns=2;s=Odd.Int32"
CLAMPED = "ns=2;s=Odd.Clamped"
TEXT = "ns=2;s=Odd.Text"
LOGGED = "ns=2;s=Odd.Logged"
LOGGED_VALUES = 35
PAGE_SIZE = 10
CLAMP_AT = 5.0
POLICY = Policy(
    setpoints=tuple(
        SetpointLimit(node_id=node_id, unit="u", minimum=-100, maximum=100, max_step=10)
        for node_id in (FLOAT, INT32, CLAMPED, TEXT)
    )
)


def _clamp(node: NodeData, attr: AttributeIds, value: ua.DataValue) -> None:
    """A device that silently limits what it is given."""
    if value.Value is not None and isinstance(value.Value.Value, float):
        limited = ua.Variant(min(value.Value.Value, CLAMP_AT), ua.VariantType.Double)
        value = replace(value, Value=limited)
    node.attributes[attr].value = value


@pytest.fixture(scope="module")
async def odd_server(free_endpoint: Callable[[], str]) -> AsyncIterator[str]:
    """A plain asyncua server with a Float, an Int32, a String and a clamping Double node."""
    endpoint = free_endpoint()
    server = Server()
    await server.init()
    server.set_endpoint(endpoint)
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    server.set_identity_tokens([ua.AnonymousIdentityToken])
    server.disable_clock(True)  # its clock task would delay stopping by up to a second
    index = await server.register_namespace("urn:factory-agents:test:odd")
    assert index == 2
    odd = await server.nodes.objects.add_object(ua.NodeId.from_string("ns=2;s=Odd"), "2:Odd")
    for node_id, value, variant_type in (
        (FLOAT, 1.0, ua.VariantType.Float),
        (INT32, 10, ua.VariantType.Int32),
        (CLAMPED, 1.0, ua.VariantType.Double),
        (TEXT, "on", ua.VariantType.String),
    ):
        name = node_id.rsplit(".", 1)[-1]
        variable = await odd.add_variable(
            ua.NodeId.from_string(node_id), f"2:{name}", ua.Variant(value, variant_type)
        )
        await variable.set_writable(True)
    server.set_attribute_value_setter(ua.NodeId.from_string(CLAMPED), _clamp)
    # History answers at most PAGE_SIZE values per call, handing out continuation points.
    server.iserver.history_manager.set_storage(
        HistoryDict(max_history_data_response_size=PAGE_SIZE)
    )
    logged = await odd.add_variable(ua.NodeId.from_string(LOGGED), "2:Logged", 0.0)
    await server.historize_node_data_change(logged, count=1000)
    # asyncua pages history by source time, so the values must be logged in time order.
    start = datetime.now(UTC)
    for i in range(1, LOGGED_VALUES + 1):
        stamp = cast("ua.DateTime", start + timedelta(milliseconds=i))
        await server.write_attribute_value(
            logged.nodeid, ua.DataValue(ua.Variant(float(i)), SourceTimestamp=stamp)
        )
    async with server:
        yield endpoint


@pytest.fixture(scope="module")
async def odd(odd_server: str) -> AsyncIterator[OpcUaConnector]:
    """A connector to the odd server, allowed to write all its nodes."""
    async with OpcUaConnector(odd_server, policy=POLICY) as connector:
        yield connector


def _change(node_id: str, from_value: float, to_value: float) -> SetpointChange:
    return SetpointChange(
        action_id="odd", node_id=node_id, from_value=from_value, to_value=to_value, unit="u"
    )


async def test_history_follows_continuation_points(odd: OpcUaConnector) -> None:
    now = datetime.now(UTC)
    for _ in range(50):  # the server's history subscription publishes every 10 ms
        samples = await odd.history(LOGGED, now - timedelta(hours=1), now + timedelta(seconds=1))
        if len(samples) > LOGGED_VALUES:
            break
        await asyncio.sleep(0.02)
    values = [s.value for s in samples if s.quality is Quality.GOOD]
    assert values == [0.0] + [float(i) for i in range(1, LOGGED_VALUES + 1)]


def _float32(value: float) -> float:
    result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return result


async def test_float_nodes_get_float_values_and_retries_still_match(odd: OpcUaConnector) -> None:
    result = await odd.write_setpoint(_change(FLOAT, 1.0, 1.1))
    assert result.written == _float32(1.1) == result.read_back
    assert result.written != 1.1
    retry = await odd.write_setpoint(_change(FLOAT, 1.0, 1.1))
    assert retry.already_applied is True


async def test_integer_nodes_take_whole_numbers_only(odd: OpcUaConnector) -> None:
    result = await odd.write_setpoint(_change(INT32, 10, 12))
    assert (result.written, result.read_back) == (12.0, 12.0)
    with pytest.raises(GuardrailViolation, match="whole numbers"):
        await odd.write_setpoint(_change(INT32, 12, 12.5))
    (sample,) = await odd.read([INT32])
    assert sample.value == 12.0


async def test_a_device_that_does_not_keep_the_value_fails_verification(
    odd: OpcUaConnector,
) -> None:
    with pytest.raises(WriteVerificationError, match="read back 5"):
        await odd.write_setpoint(_change(CLAMPED, 1.0, 7.0))


async def test_a_text_node_is_not_a_setpoint(odd: OpcUaConnector) -> None:
    with pytest.raises(ConnectorError, match="not numbers"):
        await odd.write_setpoint(_change(TEXT, 0.0, 1.0))

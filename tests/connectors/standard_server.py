"""A plain asyncua server that is not our simulator: its own namespace, odd values, companions.

It stands for "any standard OPC UA server": a boiler with variables of several data types,
values with Bad and Uncertain status and with old and future source times, small operation
limits (MaxNodesPerRead 7, MaxNodesPerBrowse 3), a Float setpoint that records what clients
write, and machines modelled after OPC 40001-1 Machinery and OPC 30050 PackML (built here
by browse name: no companion nodeset is imported).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import cast

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.address_space import NodeData
from asyncua.server.server import Server
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes

NAMESPACE = "urn:example:any-vendor:boiler-server"
MACHINERY_URI = "http://opcfoundation.org/UA/Machinery/"
PACKML_URI = "http://opcfoundation.org/UA/PackML/"
MAX_NODES_PER_READ = 7
MAX_NODES_PER_BROWSE = 3

TEMPERATURE = "ns=2;s=Boiler.Temperature"
PRESSURE = "ns=2;s=Boiler.Pressure"
RUNNING = "ns=2;s=Boiler.Running"
MODE = "ns=2;s=Boiler.Mode"
BURNERS = "ns=2;s=Boiler.Burners"
SETPOINT = "ns=2;s=Boiler.Setpoint"
BAD = "ns=2;s=Boiler.Quality.Bad"
UNCERTAIN = "ns=2;s=Boiler.Quality.Uncertain"
FUTURE = "ns=2;s=Boiler.Quality.Future"
OLD = "ns=2;s=Boiler.Quality.Old"
NUMBERED = [f"ns=2;s=Boiler.Sensor{i:02d}" for i in range(20)]
MACHINERY_MACHINE = "ns=2;s=Press1"
PACKML_MACHINE = "ns=2;s=Filler2"
PLAIN_OBJECT = "ns=2;s=Boiler"


@dataclass
class StandardServer:
    """The running server, its endpoint, and what clients wrote to the setpoint."""

    server: Server
    endpoint: str
    writes: list[ua.DataValue] = field(default_factory=list)
    machinery_states: dict[str, ua.NodeId] = field(default_factory=dict)
    machinery_current: ua.NodeId | None = None

    async def set_machinery_state(self, name: str) -> None:
        """Move the Machinery press to the state called `name` (e.g. 'NotExecuting')."""
        assert self.machinery_current is not None
        current = self.server.get_node(self.machinery_current)
        await current.write_value(ua.LocalizedText(_german(name), "de-DE"))
        state_id = await current.get_child("0:Id")
        await state_id.write_value(self.machinery_states[name])


def _german(name: str) -> str:
    """A localized display text that is not the state's browse name."""
    return {"Executing": "In Produktion", "NotExecuting": "Bereit"}.get(name, name)


def _stamp(moment: datetime) -> ua.DateTime:
    return cast("ua.DateTime", moment)


async def build(endpoint: str) -> StandardServer:
    """Create (not start) the server with its address space."""
    server = Server()
    await server.init()
    server.set_endpoint(endpoint)
    server.set_server_name("Any-Vendor Boiler Server")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    server.set_identity_tokens([ua.AnonymousIdentityToken])
    server.disable_clock(True)
    index = await server.register_namespace(NAMESPACE)
    machinery = await server.register_namespace(MACHINERY_URI)
    packml = await server.register_namespace(PACKML_URI)
    assert index == 2
    standard = StandardServer(server, endpoint)
    for limit, value in (
        (ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead, MAX_NODES_PER_READ),
        (
            ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerBrowse,
            MAX_NODES_PER_BROWSE,
        ),
    ):
        await server.write_attribute_value(
            ua.NodeId(ua.Int32(limit)), ua.DataValue(ua.Variant(value, ua.VariantType.UInt32))
        )
    boiler = await server.nodes.objects.add_object(_id(PLAIN_OBJECT), "2:Boiler")
    temperature = await boiler.add_variable(_id(TEMPERATURE), "2:Temperature", 71.5)
    await temperature.add_property(
        _id("ns=2;s=Boiler.Temperature.EURange"), "0:EURange", ua.Range(Low=0.0, High=120.0)
    )
    await boiler.add_variable(_id(PRESSURE), "2:Pressure", ua.Variant(2.5, ua.VariantType.Float))
    await boiler.add_variable(_id(RUNNING), "2:Running", True)
    await boiler.add_variable(_id(MODE), "2:Mode", ua.LocalizedText("auto"))
    await boiler.add_variable(_id(BURNERS), "2:Burners", ua.Variant(3, ua.VariantType.UInt32))
    setpoint = await boiler.add_variable(
        _id(SETPOINT), "2:Setpoint", ua.Variant(70.0, ua.VariantType.Float)
    )
    await setpoint.add_property(
        _id("ns=2;s=Boiler.Setpoint.EngineeringUnits"),
        "0:EngineeringUnits",
        ua.EUInformation(
            NamespaceUri="http://www.opcfoundation.org/UA/units/un/cefact",
            UnitId=(ord("C") << 16) | (ord("E") << 8) | ord("L"),
            DisplayName=ua.LocalizedText("°C"),
            Description=ua.LocalizedText("degree Celsius"),
        ),
    )
    await setpoint.set_writable(True)

    def record(node: NodeData, attr: AttributeIds, value: ua.DataValue) -> None:
        standard.writes.append(value)
        stamp = _stamp(datetime.now(UTC))
        node.attributes[attr].value = replace(
            value, SourceTimestamp=stamp, ServerTimestamp=stamp, StatusCode=ua.StatusCode()
        )

    server.set_attribute_value_setter(setpoint.nodeid, record)
    await _quality_nodes(server, boiler)
    for node_id in NUMBERED:
        await boiler.add_variable(_id(node_id), f"2:{node_id.rsplit('.', 1)[-1]}", 1.0)
    await _machinery_press(standard, machinery)
    await _packml_filler(server, packml)
    return standard


async def _quality_nodes(server: Server, boiler: Node) -> None:
    quality = await boiler.add_object(_id("ns=2;s=Boiler.Quality"), "2:Quality")
    now = datetime.now(UTC)
    cases = (
        (BAD, StatusCodes.BadSensorFailure, now),
        (UNCERTAIN, StatusCodes.UncertainLastUsableValue, now),
        (FUTURE, StatusCodes.Good, now + timedelta(hours=1)),
        (OLD, StatusCodes.Good, now - timedelta(hours=1)),
    )
    for node_id, status, stamp in cases:
        node = await quality.add_variable(_id(node_id), f"2:{node_id.rsplit('.', 1)[-1]}", 0.0)
        await server.write_attribute_value(
            node.nodeid,
            ua.DataValue(
                ua.Variant(42.0, ua.VariantType.Double),
                StatusCode=ua.StatusCode(ua.UInt32(status)),
                SourceTimestamp=_stamp(stamp),
                ServerTimestamp=_stamp(now),
            ),
        )


async def _state_machine(
    parent: Node, name: str, namespace: int, states: tuple[str, ...], current: str
) -> tuple[Node, dict[str, ua.NodeId]]:
    """A FiniteStateMachine-like object: state objects and CurrentState with its Id property."""
    machine = await parent.add_object(namespace, name)
    state_ids: dict[str, ua.NodeId] = {}
    for state in states:
        node = await machine.add_object(namespace, state)
        state_ids[state] = node.nodeid
    current_state = await machine.add_variable(
        _new(namespace),
        ua.QualifiedName("CurrentState", 0),
        ua.LocalizedText(_german(current), "de-DE"),
    )
    await current_state.add_property(_new(namespace), ua.QualifiedName("Id", 0), state_ids[current])
    return current_state, state_ids


async def _machinery_press(standard: StandardServer, namespace: int) -> None:
    objects = standard.server.nodes.objects
    press = await objects.add_object(_id(MACHINERY_MACHINE), "2:Press1")
    blocks = await press.add_object(namespace, "MachineryBuildingBlocks")
    current, states = await _state_machine(
        blocks,
        "MachineryItemState",
        namespace,
        ("NotAvailable", "OutOfService", "NotExecuting", "Executing"),
        "Executing",
    )
    standard.machinery_current = current.nodeid
    standard.machinery_states = states
    await _state_machine(
        blocks,
        "MachineryOperationMode",
        namespace,
        ("None", "Maintenance", "Setup", "Processing"),
        "Processing",
    )


async def _packml_filler(server: Server, namespace: int) -> None:
    filler = await server.nodes.objects.add_object(_id(PACKML_MACHINE), "2:Filler2")
    status = await filler.add_object(namespace, "Status")
    base = await status.add_object(namespace, "StateMachine")
    await base.add_variable(
        _new(namespace), ua.QualifiedName("CurrentState", 0), ua.LocalizedText("Cleared")
    )
    machine_state = await base.add_object(namespace, "MachineState")
    await machine_state.add_variable(
        _new(namespace), ua.QualifiedName("CurrentState", 0), ua.LocalizedText("Running")
    )
    await _state_machine(
        machine_state,
        "ExecuteState",
        namespace,
        ("Idle", "Starting", "Execute", "Holding", "Held", "Suspended", "Complete"),
        "Held",
    )


def _new(namespace: int) -> ua.NodeId:
    """A NodeId for the server to number, in `namespace`."""
    return ua.NodeId(0, namespace)  # type: ignore[arg-type]


def _id(node_id: str) -> ua.NodeId:
    return ua.NodeId.from_string(node_id)

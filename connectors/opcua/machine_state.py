"""Machine state from the OPC UA companion models, mapped to the platform's state words.

Two models are recognised below a machine object, by browse name (namespace-agnostic):

- OPC 40001-1 Machinery: ``MachineryBuildingBlocks/MachineryItemState/CurrentState``
  (NotAvailable, OutOfService, NotExecuting, Executing) and
  ``MachineryBuildingBlocks/MachineryOperationMode/CurrentState`` (None, Maintenance, Setup,
  Processing); the AddIns directly under the machine are accepted too.
- OPC 30050 PackML: ``Status/StateMachine/CurrentState`` (Aborted, Aborting, Clearing, ...),
  its sub-state machine ``MachineState`` (Stopped, Stopping, Clearing, Running) and that
  one's ``ExecuteState`` (Idle, Starting, Execute, Holding, Held, Suspended, Complete, ...).

The state is taken from CurrentState's ``Id`` property (the state object's BrowseName, which
does not depend on the server's language), else from CurrentState's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from asyncua import ua
from asyncua.client.ua_client import UaClient
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from pydantic import BaseModel, ConfigDict

from connectors.opcua.samples import quality_of, source_time
from factory_agents.plant import Quality

_HIERARCHICAL = ua.NodeId(ua.Int32(ObjectIds.HierarchicalReferences))


class MachineState(StrEnum):
    """The platform's words for what a machine is doing."""

    RUNNING = "running"
    IDLE = "idle"
    CHANGING = "changing"
    HELD = "held"
    SUSPENDED = "suspended"
    STOPPED = "stopped"
    ABORTED = "aborted"
    OUT_OF_SERVICE = "out_of_service"
    NOT_AVAILABLE = "not_available"
    UNKNOWN = "unknown"


class OperationMode(StrEnum):
    """What the machine is set up for (OPC 40001-1 MachineryOperationMode)."""

    PROCESSING = "processing"
    SETUP = "setup"
    MAINTENANCE = "maintenance"
    NONE = "none"
    UNKNOWN = "unknown"


_MACHINERY_STATES = {
    "Executing": MachineState.RUNNING,
    "NotExecuting": MachineState.IDLE,
    "OutOfService": MachineState.OUT_OF_SERVICE,
    "NotAvailable": MachineState.NOT_AVAILABLE,
}
_PACKML_STATES = {
    "Execute": MachineState.RUNNING,
    "Idle": MachineState.IDLE,
    "Complete": MachineState.IDLE,
    "Starting": MachineState.CHANGING,
    "Resetting": MachineState.CHANGING,
    "Completing": MachineState.CHANGING,
    "Unholding": MachineState.CHANGING,
    "Unsuspending": MachineState.CHANGING,
    "Holding": MachineState.HELD,
    "Held": MachineState.HELD,
    "Suspending": MachineState.SUSPENDED,
    "Suspended": MachineState.SUSPENDED,
    "Stopping": MachineState.STOPPED,
    "Stopped": MachineState.STOPPED,
    "Clearing": MachineState.ABORTED,
    "Aborting": MachineState.ABORTED,
    "Aborted": MachineState.ABORTED,
}
_OPERATION_MODES = {
    "Processing": OperationMode.PROCESSING,
    "Setup": OperationMode.SETUP,
    "Maintenance": OperationMode.MAINTENANCE,
    "None": OperationMode.NONE,
}
_PACKML_PARENT_STATES = {"Cleared", "Running"}  # the answer is in the sub-state machine


class MachineStatus(BaseModel):
    """A machine's state (and operation mode), as its companion model reports it."""

    model_config = ConfigDict(frozen=True)

    machine: str
    model: Literal["machinery", "packml"]
    state: MachineState
    raw_state: str
    mode: OperationMode | None = None
    raw_mode: str | None = None
    source_time: datetime
    quality: Quality


def machinery_state(name: str) -> MachineState:
    """An OPC 40001-1 MachineryItemState name as a platform word."""
    return _MACHINERY_STATES.get(name, MachineState.UNKNOWN)


def packml_state(name: str) -> MachineState:
    """A PackML (ISA-TR88) state name, e.g. 'Execute' or 'Held', as a platform word."""
    return _PACKML_STATES.get(name, MachineState.UNKNOWN)


def operation_mode(name: str) -> OperationMode:
    """An OPC 40001-1 MachineryOperationMode name as a platform word."""
    return _OPERATION_MODES.get(name, OperationMode.UNKNOWN)


async def read_machine_status(
    session: UaClient, machine: ua.NodeId, label: str
) -> MachineStatus | None:
    """The machine's Machinery or PackML state, or None if it offers neither model."""
    item_state = await _find(
        session,
        machine,
        [["MachineryBuildingBlocks", "MachineryItemState"], ["MachineryItemState"]],
    )
    if item_state is not None:
        mode = await _find(
            session,
            machine,
            [["MachineryBuildingBlocks", "MachineryOperationMode"], ["MachineryOperationMode"]],
        )
        state_name, stamp, quality = await _current_state(session, item_state)
        mode_name = None
        if mode is not None:
            mode_name, _, _ = await _current_state(session, mode)
        return MachineStatus(
            machine=label,
            model="machinery",
            state=machinery_state(state_name),
            raw_state=state_name,
            mode=operation_mode(mode_name) if mode_name is not None else None,
            raw_mode=mode_name,
            source_time=stamp,
            quality=quality,
        )
    base = await _find(session, machine, [["Status", "StateMachine"]])
    if base is None:
        return None
    levels = [base]
    for name in ("MachineState", "ExecuteState"):
        child = await _find(session, levels[-1], [[name]])
        if child is None:
            break
        levels.append(child)
    state_name, stamp, quality = await _current_state(session, levels[0])
    for sub_machine in levels[1:]:
        if state_name not in _PACKML_PARENT_STATES:
            break
        state_name, stamp, quality = await _current_state(session, sub_machine)
    return MachineStatus(
        machine=label,
        model="packml",
        state=packml_state(state_name),
        raw_state=state_name,
        source_time=stamp,
        quality=quality,
    )


async def _find(
    session: UaClient, start: ua.NodeId, paths: Sequence[Sequence[str]]
) -> ua.NodeId | None:
    """The node at the first of `paths` (browse names, any namespace) that exists."""
    for path in paths:
        node: ua.NodeId | None = start
        for name in path:
            assert node is not None
            node = (await _children(session, node)).get(name)
            if node is None:
                break
        if node is not None:
            return node
    return None


async def _children(session: UaClient, node: ua.NodeId) -> dict[str, ua.NodeId]:
    """Hierarchical children (components, properties, add-ins) by browse name."""
    params = ua.BrowseParameters(
        RequestedMaxReferencesPerNode=0,
        NodesToBrowse=[
            ua.BrowseDescription(
                NodeId=node,
                BrowseDirection=ua.BrowseDirection.Forward,
                ReferenceTypeId=_HIERARCHICAL,
                IncludeSubtypes=True,
                NodeClassMask=0,
                ResultMask=ua.BrowseResultMask.BrowseName,
            )
        ],
    )
    (result,) = await session.browse(params)
    children: dict[str, ua.NodeId] = {}
    references = list(result.References or []) if result.StatusCode.is_good() else []
    point = result.ContinuationPoint
    while point:
        (more,) = await session.browse_next(
            ua.BrowseNextParameters(ReleaseContinuationPoints=False, ContinuationPoints=[point])
        )
        references += list(more.References or [])
        point = more.ContinuationPoint
    for reference in references:
        target = reference.NodeId
        if not getattr(target, "ServerIndex", 0):
            children.setdefault(
                reference.BrowseName.Name,
                ua.NodeId(target.Identifier, target.NamespaceIndex, target.NodeIdType),
            )
    return children


async def _current_state(
    session: UaClient, state_machine: ua.NodeId
) -> tuple[str, datetime, Quality]:
    """The state machine's current state name, its source time and quality."""
    received_at = datetime.now(UTC)
    current = (await _children(session, state_machine)).get("CurrentState")
    if current is None:
        return "", received_at, Quality.BAD
    state_id = (await _children(session, current)).get("Id")
    reads = [ua.ReadValueId(NodeId=current, AttributeId=ua.UInt32(AttributeIds.Value))]
    if state_id is not None:
        reads.append(ua.ReadValueId(NodeId=state_id, AttributeId=ua.UInt32(AttributeIds.Value)))
    values = await session.read(
        ua.ReadParameters(NodesToRead=reads, TimestampsToReturn=ua.TimestampsToReturn.Both)
    )
    text_value = values[0]
    quality = quality_of(text_value.StatusCode)
    stamp = source_time(text_value, received_at)
    name = ""
    if len(values) > 1:
        name = await _state_object_name(session, values[1])
    if not name:
        text = text_value.Value.Value if text_value.Value is not None else None
        name = text.Text or "" if isinstance(text, ua.LocalizedText) else str(text or "")
    return name, stamp, quality


async def _state_object_name(session: UaClient, id_value: ua.DataValue) -> str:
    """The BrowseName of the state object that CurrentState's Id points at."""
    state = id_value.Value.Value if id_value.Value is not None else None
    if not isinstance(state, ua.NodeId) or state.is_null():
        return ""
    (name,) = await session.read(
        ua.ReadParameters(
            NodesToRead=[
                ua.ReadValueId(NodeId=state, AttributeId=ua.UInt32(AttributeIds.BrowseName))
            ]
        )
    )
    content = name.Value.Value if name.Value is not None else None
    return content.Name or "" if isinstance(content, ua.QualifiedName) else ""

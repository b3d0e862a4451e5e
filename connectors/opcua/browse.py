"""Recursive browse: what a server offers, with data type, engineering unit, range and access.

One Browse request per level (chunked to the server's MaxNodesPerBrowse, continuation points
followed), then one batched Read for the variables' attributes and properties. Properties
(EngineeringUnits, EURange, ...) are reported on their variable, not listed as nodes. The
standard Server object is listed but not descended into unless it is the root.
"""

from __future__ import annotations

from collections.abc import Sequence

from asyncua import ua
from asyncua.client.ua_client import UaClient
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIdNames, ObjectIds
from pydantic import BaseModel, ConfigDict

SERVER_OBJECT = ua.NodeId(ua.Int32(ObjectIds.Server))
_HAS_PROPERTY = ua.NodeId(ua.Int32(ObjectIds.HasProperty))
_HIERARCHICAL = ua.NodeId(ua.Int32(ObjectIds.HierarchicalReferences))
_ACCESS_WORDS = (
    (ua.AccessLevel.CurrentRead, "read"),
    (ua.AccessLevel.CurrentWrite, "write"),
    (ua.AccessLevel.HistoryRead, "history read"),
    (ua.AccessLevel.HistoryWrite, "history write"),
    (ua.AccessLevel.SemanticChange, "semantic change"),
    (ua.AccessLevel.StatusWrite, "status write"),
    (ua.AccessLevel.TimestampWrite, "timestamp write"),
)


class BrowsedNode(BaseModel):
    """One node found by browsing, with what an integrator needs to pick tags."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    browse_name: str
    display_name: str
    node_class: str
    depth: int
    parent: str
    data_type: str | None = None
    unit: str | None = None
    eu_range: tuple[float, float] | None = None
    access: tuple[str, ...] = ()
    user_access: tuple[str, ...] = ()


def access_words(level: int | None) -> tuple[str, ...]:
    """An AccessLevel byte as words, e.g. ('read', 'write', 'history read')."""
    if level is None:
        return ()
    return tuple(word for bit, word in _ACCESS_WORDS if level & (1 << bit))


async def browse_tree(
    session: UaClient,
    root: ua.NodeId,
    depth: int,
    *,
    max_nodes: int,
    per_request: int,
) -> tuple[list[BrowsedNode], bool]:
    """Browse `depth` levels below `root`; return the nodes and whether max_nodes cut it short."""
    found: list[tuple[ua.NodeId, ua.ReferenceDescription, int, ua.NodeId]] = []
    properties: dict[ua.NodeId, dict[str, ua.NodeId]] = {}
    seen = {root}
    level = [root]
    truncated = False
    for current_depth in range(1, depth + 1):
        children = await _browse(session, level, _HIERARCHICAL, per_request)
        next_level: list[ua.NodeId] = []
        for parent, references in zip(level, children, strict=True):
            for reference in references:
                node = _local(reference.NodeId)
                if node is None:
                    continue
                if reference.ReferenceTypeId == _HAS_PROPERTY:
                    properties.setdefault(parent, {})[reference.BrowseName.Name] = node
                    continue
                if node in seen:
                    continue
                if len(found) >= max_nodes:
                    truncated = True
                    break
                seen.add(node)
                found.append((node, reference, current_depth, parent))
                if node != SERVER_OBJECT or root == SERVER_OBJECT:
                    next_level.append(node)
        level = next_level
        if not level or truncated:
            break
    variables = [node for node, ref, _, _ in found if ref.NodeClass == ua.NodeClass.Variable]
    deepest = [node for node in variables if node not in properties]
    if deepest:
        for node, references in zip(
            deepest, await _browse(session, deepest, _HAS_PROPERTY, per_request), strict=True
        ):
            for reference in references:
                target = _local(reference.NodeId)
                if target is not None:
                    properties.setdefault(node, {})[reference.BrowseName.Name] = target
    details = await _variable_details(session, variables, properties, per_request)
    nodes = [
        BrowsedNode(
            node_id=node.to_string(),
            browse_name=_qualified(reference.BrowseName),
            display_name=reference.DisplayName.Text or reference.BrowseName.Name or "",
            node_class=reference.NodeClass.name,
            depth=node_depth,
            parent=parent.to_string(),
            **details.get(node, {}),
        )
        for node, reference, node_depth, parent in found
    ]
    return nodes, truncated


async def _browse(
    session: UaClient, nodes: Sequence[ua.NodeId], reference_type: ua.NodeId, per_request: int
) -> list[list[ua.ReferenceDescription]]:
    """Forward references of each node (of `reference_type` and subtypes), all pages."""
    answers: list[list[ua.ReferenceDescription]] = []
    for first in range(0, len(nodes), per_request):
        chunk = nodes[first : first + per_request]
        params = ua.BrowseParameters(
            RequestedMaxReferencesPerNode=0,
            NodesToBrowse=[
                ua.BrowseDescription(
                    NodeId=node,
                    BrowseDirection=ua.BrowseDirection.Forward,
                    ReferenceTypeId=reference_type,
                    IncludeSubtypes=True,
                    NodeClassMask=0,
                    ResultMask=ua.BrowseResultMask.All,
                )
                for node in chunk
            ],
        )
        for result in await session.browse(params):
            references = list(result.References or []) if result.StatusCode.is_good() else []
            point = result.ContinuationPoint
            while point:
                (more,) = await session.browse_next(
                    ua.BrowseNextParameters(
                        ReleaseContinuationPoints=False, ContinuationPoints=[point]
                    )
                )
                references += list(more.References or [])
                point = more.ContinuationPoint
            answers.append(references)
    return answers


async def _variable_details(
    session: UaClient,
    variables: list[ua.NodeId],
    properties: dict[ua.NodeId, dict[str, ua.NodeId]],
    per_request: int,
) -> dict[ua.NodeId, dict[str, object]]:
    """Data type, access levels, unit and range of each variable, from batched reads."""
    reads: list[ua.ReadValueId] = []
    for node in variables:
        reads += [
            ua.ReadValueId(NodeId=node, AttributeId=ua.UInt32(AttributeIds.DataType)),
            ua.ReadValueId(NodeId=node, AttributeId=ua.UInt32(AttributeIds.AccessLevel)),
            ua.ReadValueId(NodeId=node, AttributeId=ua.UInt32(AttributeIds.UserAccessLevel)),
        ]
    property_reads: list[tuple[ua.NodeId, str]] = []
    for node in variables:
        for name in ("EngineeringUnits", "EURange"):
            target = properties.get(node, {}).get(name)
            if target is not None:
                property_reads.append((node, name))
                reads.append(
                    ua.ReadValueId(NodeId=target, AttributeId=ua.UInt32(AttributeIds.Value))
                )
    values = await _read(session, reads, per_request)
    details: dict[ua.NodeId, dict[str, object]] = {}
    type_ids: dict[ua.NodeId, ua.NodeId] = {}
    for index, node in enumerate(variables):
        data_type, access, user_access = values[3 * index : 3 * index + 3]
        type_id = _value(data_type)
        if isinstance(type_id, ua.NodeId):
            type_ids[node] = type_id
        details[node] = {
            "access": access_words(_int(_value(access))),
            "user_access": access_words(_int(_value(user_access))),
        }
    for (node, name), value in zip(property_reads, values[3 * len(variables) :], strict=True):
        content = _value(value)
        if name == "EngineeringUnits" and isinstance(content, ua.EUInformation):
            details[node]["unit"] = content.DisplayName.Text if content.DisplayName else None
        elif name == "EURange" and isinstance(content, ua.Range):
            details[node]["eu_range"] = (float(content.Low), float(content.High))
    names = await _type_names(session, set(type_ids.values()), per_request)
    for node, type_id in type_ids.items():
        details[node]["data_type"] = names.get(type_id)
    return details


async def _type_names(
    session: UaClient, type_ids: set[ua.NodeId], per_request: int
) -> dict[ua.NodeId, str]:
    """Names of data types: standard ones from the table, others from their BrowseName."""
    names: dict[ua.NodeId, str] = {}
    unknown: list[ua.NodeId] = []
    for type_id in type_ids:
        standard = (
            ObjectIdNames.get(type_id.Identifier)
            if type_id.NamespaceIndex == 0 and isinstance(type_id.Identifier, int)
            else None
        )
        if standard is not None:
            names[type_id] = standard
        else:
            unknown.append(type_id)
    if unknown:
        reads = [
            ua.ReadValueId(NodeId=type_id, AttributeId=ua.UInt32(AttributeIds.BrowseName))
            for type_id in unknown
        ]
        for type_id, value in zip(unknown, await _read(session, reads, per_request), strict=True):
            content = _value(value)
            names[type_id] = (
                content.Name if isinstance(content, ua.QualifiedName) else type_id.to_string()
            )
    return names


async def _read(
    session: UaClient, reads: list[ua.ReadValueId], per_request: int
) -> list[ua.DataValue]:
    values: list[ua.DataValue] = []
    for first in range(0, len(reads), per_request):
        params = ua.ReadParameters(
            NodesToRead=reads[first : first + per_request],
            TimestampsToReturn=ua.TimestampsToReturn.Neither,
        )
        values += await session.read(params)
    return values


def _value(value: ua.DataValue) -> object:
    if value.StatusCode is not None and not value.StatusCode.is_good():
        return None
    return value.Value.Value if value.Value is not None else None


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int) else None


def _local(target: ua.NodeId) -> ua.NodeId | None:
    """The target as a plain NodeId, or None if it lives on another server."""
    if getattr(target, "ServerIndex", 0):
        return None
    return ua.NodeId(target.Identifier, target.NamespaceIndex, target.NodeIdType)


def _qualified(name: ua.QualifiedName) -> str:
    return f"{name.NamespaceIndex}:{name.Name}"

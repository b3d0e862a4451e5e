"""Values of any data type as a server sent them, put for people (the CLI), not for agents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asyncua import ua
from pydantic import BaseModel, ConfigDict

from connectors.opcua.samples import aware_time, quality_of, status_name
from factory_agents.plant import Quality


class TagValue(BaseModel):
    """A value of any data type as the server sent it, for people (the CLI), not agents."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    value: Any
    text: str
    data_type: str
    status: str
    quality: Quality
    source_time: datetime | None
    server_time: datetime | None


def tag_value(node_id: str, value: ua.DataValue) -> TagValue:
    """The TagValue of one DataValue."""
    variant = value.Value
    raw = variant.Value if variant is not None else None
    return TagValue(
        node_id=node_id,
        value=_plain(raw),
        text=_text(raw),
        data_type=variant.VariantType.name if variant is not None else "Null",
        status=status_name(value.StatusCode),
        quality=quality_of(value.StatusCode),
        source_time=aware_time(value.SourceTimestamp),
        server_time=aware_time(value.ServerTimestamp),
    )


def _plain(raw: object) -> Any:
    """A JSON-friendly form of a decoded OPC UA value."""
    if raw is None or isinstance(raw, bool | int | float | str):
        return raw
    if isinstance(raw, list | tuple):
        return [_plain(item) for item in raw]
    if isinstance(raw, datetime):
        return raw.isoformat()
    return _text(raw)


def _text(raw: object) -> str:
    """How a person reads a decoded OPC UA value."""
    if raw is None:
        return ""
    if isinstance(raw, ua.LocalizedText):
        return raw.Text or ""
    if isinstance(raw, ua.QualifiedName):
        return f"{raw.NamespaceIndex}:{raw.Name}"
    if isinstance(raw, ua.NodeId):
        return raw.to_string()
    if isinstance(raw, float):
        return f"{raw:g}"
    if isinstance(raw, list | tuple):
        return "[" + ", ".join(_text(item) for item in raw) + "]"
    return str(raw)

"""Sparkplug B payloads: a small codec for the protobuf `Payload` message of sparkplug_b.proto.

Only what a host application needs is decoded: the payload's timestamp and seq, and each
metric's name, alias, timestamp, datatype, is_historical, is_transient, is_null, its scalar
properties (such as "Quality" and "engUnit") and a scalar value (integers, Float, Double,
Boolean, String/Text/UUID, Bytes and arrays as raw bytes). DataSet, Template, MetaData,
nested property sets and extensions are skipped; a DataSet or Template metric's value reads
as None.

Signed integers travel as unsigned protobuf fields (Int8/16/32 in `int_value`, Int64 in
`long_value`) in two's complement. They are encoded sign-extended to the field's width and
decoded by masking to the type's width, so both sign-extended and narrow encodings (seen in
the field) read back right. UInt32 goes in `int_value` as Sparkplug 3.0 says; a UInt32 found
in `long_value` (older Tahu releases) is accepted too.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.mqtt.datatypes import (
    BYTES_TYPES,
    INTEGER_TYPES,
    STRING_TYPES,
    DataType,
    MetricValue,
    PropertyValue,
    as_type,
    datatype_of,
)
from connectors.mqtt.protobuf import (
    FIXED32,
    FIXED64,
    LEN,
    UINT32_MASK,
    UINT64_MASK,
    VARINT,
    as_int,
    as_view,
    message_fields,
    put_len_field,
    put_tag,
    put_varint_field,
)
from factory_agents.errors import ConnectorError


@dataclass(frozen=True)
class Metric:
    """One metric of a payload; `timestamp` is milliseconds since the epoch (UTC)."""

    name: str | None = None
    alias: int | None = None
    timestamp: int | None = None
    datatype: int | None = None
    value: MetricValue = None
    is_null: bool = False
    is_historical: bool = False
    is_transient: bool = False
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Payload:
    """A Sparkplug B payload: send time (ms since the epoch), metrics and sequence number."""

    timestamp: int | None = None
    metrics: tuple[Metric, ...] = field(default_factory=tuple)
    seq: int | None = None
    uuid: str | None = None
    body: bytes | None = None


def encode(payload: Payload) -> bytes:
    """The protobuf bytes of `payload`; ValueError for a value its datatype cannot carry."""
    out = bytearray()
    if payload.timestamp is not None:
        put_varint_field(out, 1, payload.timestamp)
    for metric in payload.metrics:
        put_len_field(out, 2, _encode_metric(metric))
    if payload.seq is not None:
        put_varint_field(out, 3, payload.seq)
    if payload.uuid is not None:
        put_len_field(out, 4, payload.uuid.encode())
    if payload.body is not None:
        put_len_field(out, 5, payload.body)
    return bytes(out)


def decode(data: bytes | bytearray | memoryview) -> Payload:
    """The Payload in `data`, or ConnectorError when the bytes are not a Sparkplug B payload."""
    try:
        return _decode_payload(memoryview(data))
    except (ValueError, IndexError, UnicodeDecodeError, struct.error) as err:
        raise ConnectorError(
            f"not a Sparkplug B payload ({len(data)} bytes): {err}. The publisher is not"
            " sending spBv1.0 protobuf payloads on a Sparkplug topic; check its configuration"
        ) from err


def _encode_metric(metric: Metric) -> bytes:
    out = bytearray()
    if metric.name is not None:
        put_len_field(out, 1, metric.name.encode())
    if metric.alias is not None:
        put_varint_field(out, 2, metric.alias)
    if metric.timestamp is not None:
        put_varint_field(out, 3, metric.timestamp)
    if metric.datatype is not None:
        put_varint_field(out, 4, metric.datatype)
    if metric.is_historical:
        put_varint_field(out, 5, 1)
    if metric.is_transient:
        put_varint_field(out, 6, 1)
    if metric.properties:
        put_len_field(out, 9, _encode_properties(metric.properties))
    if metric.is_null or metric.value is None:
        if metric.is_null:
            put_varint_field(out, 7, 1)
        return bytes(out)
    _encode_value(out, metric)
    return bytes(out)


def _encode_value(out: bytearray, metric: Metric) -> None:
    value, kind = metric.value, datatype_of(metric.datatype)
    where = f"metric {metric.name or metric.alias!r}"
    if kind is None:
        kind = _inferred_type(value, where)
    if kind in INTEGER_TYPES:
        bits, signed = INTEGER_TYPES[kind]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: {kind.name} needs an int, got {value!r}")
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if not low <= value <= high:
            raise ValueError(f"{where}: {value} is outside the {kind.name} range [{low}, {high}]")
        if bits <= 32:
            put_varint_field(out, 10, value & UINT32_MASK)
        else:
            put_varint_field(out, 11, value & UINT64_MASK)
    elif kind is DataType.FLOAT:
        put_tag(out, 12, FIXED32)
        out += struct.pack("<f", _float_of(value, where))
    elif kind is DataType.DOUBLE:
        put_tag(out, 13, FIXED64)
        out += struct.pack("<d", _float_of(value, where))
    elif kind is DataType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError(f"{where}: Boolean needs a bool, got {value!r}")
        put_varint_field(out, 14, int(value))
    elif kind in STRING_TYPES:
        if not isinstance(value, str):
            raise ValueError(f"{where}: {kind.name} needs a str, got {value!r}")
        put_len_field(out, 15, value.encode())
    elif kind in BYTES_TYPES:
        if not isinstance(value, bytes):
            raise ValueError(f"{where}: {kind.name} needs bytes, got {value!r}")
        put_len_field(out, 16, value)
    else:
        raise ValueError(f"{where}: encoding {kind.name} values is not supported")


def _encode_properties(properties: Mapping[str, PropertyValue]) -> bytes:
    out = bytearray()
    for key in properties:
        put_len_field(out, 1, key.encode())
    for key, value in properties.items():
        put_len_field(out, 2, _encode_property_value(key, value))
    return bytes(out)


def _encode_property_value(key: str, value: PropertyValue) -> bytes:
    out = bytearray()
    if value is None:
        put_varint_field(out, 1, DataType.STRING)
        put_varint_field(out, 2, 1)
    elif isinstance(value, bool):
        put_varint_field(out, 1, DataType.BOOLEAN)
        put_varint_field(out, 7, int(value))
    elif isinstance(value, int) and -(2**31) <= value < 2**31:
        put_varint_field(out, 1, DataType.INT32)  # e.g. "Quality": Int32 as the spec asks
        put_varint_field(out, 3, value & UINT32_MASK)
    elif isinstance(value, int):
        put_varint_field(out, 1, DataType.INT64)
        put_varint_field(out, 4, value & UINT64_MASK)
    elif isinstance(value, float):
        put_varint_field(out, 1, DataType.DOUBLE)
        put_tag(out, 6, FIXED64)
        out += struct.pack("<d", value)
    elif isinstance(value, str):
        put_varint_field(out, 1, DataType.STRING)
        put_len_field(out, 8, value.encode())
    else:
        raise ValueError(f"property {key!r}: cannot encode {value!r}")
    return bytes(out)


def _inferred_type(value: MetricValue, where: str) -> DataType:
    if isinstance(value, bool):
        return DataType.BOOLEAN
    if isinstance(value, int):
        return DataType.INT64
    if isinstance(value, float):
        return DataType.DOUBLE
    if isinstance(value, str):
        return DataType.STRING
    if isinstance(value, bytes):
        return DataType.BYTES
    raise ValueError(f"{where}: cannot infer a datatype for {value!r}")


def _float_of(value: MetricValue, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: a floating point datatype needs a number, got {value!r}")
    return float(value)


def _decode_payload(data: memoryview) -> Payload:
    timestamp: int | None = None
    seq: int | None = None
    uuid: str | None = None
    body: bytes | None = None
    metrics: list[Metric] = []
    for number, wire, value in message_fields(data):
        if number == 1 and wire == VARINT:
            timestamp = as_int(value) & UINT64_MASK
        elif number == 2 and wire == LEN:
            metrics.append(_decode_metric(as_view(value)))
        elif number == 3 and wire == VARINT:
            seq = as_int(value) & UINT64_MASK
        elif number == 4 and wire == LEN:
            uuid = str(as_view(value), "utf-8")
        elif number == 5 and wire == LEN:
            body = bytes(as_view(value))
    return Payload(timestamp=timestamp, metrics=tuple(metrics), seq=seq, uuid=uuid, body=body)


def _decode_metric(data: memoryview) -> Metric:
    name: str | None = None
    alias: int | None = None
    timestamp: int | None = None
    datatype: int | None = None
    flags = {5: False, 6: False, 7: False}
    properties: dict[str, PropertyValue] = {}
    value: MetricValue = None
    for number, wire, raw in message_fields(data):
        if number == 1 and wire == LEN:
            name = str(as_view(raw), "utf-8")
        elif number == 2 and wire == VARINT:
            alias = as_int(raw) & UINT64_MASK
        elif number == 3 and wire == VARINT:
            timestamp = as_int(raw) & UINT64_MASK
        elif number == 4 and wire == VARINT:
            datatype = as_int(raw) & UINT32_MASK
        elif number in flags and wire == VARINT:
            flags[number] = as_int(raw) != 0
        elif number == 9 and wire == LEN:
            properties = _decode_properties(as_view(raw))
        elif number == 10 and wire == VARINT:
            value = as_int(raw) & UINT32_MASK
        elif number == 11 and wire == VARINT:
            value = as_int(raw) & UINT64_MASK
        elif number == 12 and wire == FIXED32:
            value = struct.unpack("<f", as_view(raw))[0]
        elif number == 13 and wire == FIXED64:
            value = struct.unpack("<d", as_view(raw))[0]
        elif number == 14 and wire == VARINT:
            value = as_int(raw) != 0
        elif number == 15 and wire == LEN:
            value = str(as_view(raw), "utf-8")
        elif number == 16 and wire == LEN:
            value = bytes(as_view(raw))
        elif number in (17, 18, 19):
            value = None  # DataSet, Template, extension: not read here
    is_null = flags[7]
    return Metric(
        name=name,
        alias=alias,
        timestamp=timestamp,
        datatype=datatype,
        value=None if is_null else as_type(value, datatype),
        is_null=is_null,
        is_historical=flags[5],
        is_transient=flags[6],
        properties=properties,
    )


def _decode_properties(data: memoryview) -> dict[str, PropertyValue]:
    keys: list[str] = []
    values: list[PropertyValue] = []
    for number, wire, raw in message_fields(data):
        if number == 1 and wire == LEN:
            keys.append(str(as_view(raw), "utf-8"))
        elif number == 2 and wire == LEN:
            values.append(_decode_property_value(as_view(raw)))
    if len(keys) != len(values):
        raise ValueError(f"a property set has {len(keys)} keys but {len(values)} values")
    return dict(zip(keys, values, strict=True))


def _decode_property_value(data: memoryview) -> PropertyValue:
    datatype: int | None = None
    is_null = False
    value: PropertyValue = None
    for number, wire, raw in message_fields(data):
        if number == 1 and wire == VARINT:
            datatype = as_int(raw) & UINT32_MASK
        elif number == 2 and wire == VARINT:
            is_null = as_int(raw) != 0
        elif number == 3 and wire == VARINT:
            value = as_int(raw) & UINT32_MASK
        elif number == 4 and wire == VARINT:
            value = as_int(raw) & UINT64_MASK
        elif number == 5 and wire == FIXED32:
            value = struct.unpack("<f", as_view(raw))[0]
        elif number == 6 and wire == FIXED64:
            value = struct.unpack("<d", as_view(raw))[0]
        elif number == 7 and wire == VARINT:
            value = as_int(raw) != 0
        elif number == 8 and wire == LEN:
            value = str(as_view(raw), "utf-8")
        elif number in (9, 10, 11):
            value = None  # nested property sets and extensions: not read here
    if is_null:
        return None
    typed = as_type(value, datatype)
    return None if isinstance(typed, bytes) else typed

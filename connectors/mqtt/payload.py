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

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from factory_agents.errors import ConnectorError

MetricValue = int | float | bool | str | bytes | None
PropertyValue = int | float | bool | str | None

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5
_UINT32_MASK = 0xFFFF_FFFF
_UINT64_MASK = 0xFFFF_FFFF_FFFF_FFFF


class DataType(IntEnum):
    """The Sparkplug B datatype enum (sparkplug_b.proto, Sparkplug 3.0)."""

    UNKNOWN = 0
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15
    DATASET = 16
    BYTES = 17
    FILE = 18
    TEMPLATE = 19
    PROPERTYSET = 20
    PROPERTYSETLIST = 21
    INT8_ARRAY = 22
    INT16_ARRAY = 23
    INT32_ARRAY = 24
    INT64_ARRAY = 25
    UINT8_ARRAY = 26
    UINT16_ARRAY = 27
    UINT32_ARRAY = 28
    UINT64_ARRAY = 29
    FLOAT_ARRAY = 30
    DOUBLE_ARRAY = 31
    BOOLEAN_ARRAY = 32
    STRING_ARRAY = 33
    DATETIME_ARRAY = 34


_NAMES = [
    "Unknown",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "Float",
    "Double",
    "Boolean",
    "String",
    "DateTime",
    "Text",
    "UUID",
    "DataSet",
    "Bytes",
    "File",
    "Template",
    "PropertySet",
    "PropertySetList",
    "Int8Array",
    "Int16Array",
    "Int32Array",
    "Int64Array",
    "UInt8Array",
    "UInt16Array",
    "UInt32Array",
    "UInt64Array",
    "FloatArray",
    "DoubleArray",
    "BooleanArray",
    "StringArray",
    "DateTimeArray",
]

# Integer types: (bits, signed). DateTime is milliseconds since the epoch in a uint64.
INTEGER_TYPES: dict[DataType, tuple[int, bool]] = {
    DataType.INT8: (8, True),
    DataType.INT16: (16, True),
    DataType.INT32: (32, True),
    DataType.INT64: (64, True),
    DataType.UINT8: (8, False),
    DataType.UINT16: (16, False),
    DataType.UINT32: (32, False),
    DataType.UINT64: (64, False),
    DataType.DATETIME: (64, False),
}
_STRING_TYPES = frozenset({DataType.STRING, DataType.TEXT, DataType.UUID})
_BYTES_TYPES = frozenset({DataType.BYTES, DataType.FILE}) | frozenset(
    DataType(number) for number in range(DataType.INT8_ARRAY, DataType.DATETIME_ARRAY + 1)
)


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


def datatype_of(number: int | None) -> DataType | None:
    """The DataType for a wire number, or None when absent or not in the enum."""
    if number is None:
        return None
    try:
        return DataType(number)
    except ValueError:
        return None


def datatype_name(number: int | None) -> str:
    """The datatype as the specification spells it ('Int16', 'UInt32', 'Float', ...)."""
    kind = datatype_of(number)
    if kind is None:
        return "untyped" if number is None else f"datatype {number}"
    return _NAMES[kind]


def as_type(value: MetricValue, datatype: int | None) -> MetricValue:
    """`value` read as `datatype`: integers masked and sign-extended to the type's width."""
    kind = datatype_of(datatype)
    if kind is None or isinstance(value, bool) or not isinstance(value, int):
        return value
    if kind is DataType.BOOLEAN:
        return value != 0
    if kind not in INTEGER_TYPES:
        return value
    bits, signed = INTEGER_TYPES[kind]
    masked = value & ((1 << bits) - 1)
    if signed and masked >= 1 << (bits - 1):
        masked -= 1 << bits
    return masked


def encode(payload: Payload) -> bytes:
    """The protobuf bytes of `payload`; ValueError for a value its datatype cannot carry."""
    out = bytearray()
    if payload.timestamp is not None:
        _put_varint_field(out, 1, payload.timestamp)
    for metric in payload.metrics:
        _put_len_field(out, 2, _encode_metric(metric))
    if payload.seq is not None:
        _put_varint_field(out, 3, payload.seq)
    if payload.uuid is not None:
        _put_len_field(out, 4, payload.uuid.encode())
    if payload.body is not None:
        _put_len_field(out, 5, payload.body)
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
        _put_len_field(out, 1, metric.name.encode())
    if metric.alias is not None:
        _put_varint_field(out, 2, metric.alias)
    if metric.timestamp is not None:
        _put_varint_field(out, 3, metric.timestamp)
    if metric.datatype is not None:
        _put_varint_field(out, 4, metric.datatype)
    if metric.is_historical:
        _put_varint_field(out, 5, 1)
    if metric.is_transient:
        _put_varint_field(out, 6, 1)
    if metric.properties:
        _put_len_field(out, 9, _encode_properties(metric.properties))
    if metric.is_null or metric.value is None:
        if metric.is_null:
            _put_varint_field(out, 7, 1)
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
            _put_varint_field(out, 10, value & _UINT32_MASK)
        else:
            _put_varint_field(out, 11, value & _UINT64_MASK)
    elif kind is DataType.FLOAT:
        _put_tag(out, 12, _FIXED32)
        out += struct.pack("<f", _float_of(value, where))
    elif kind is DataType.DOUBLE:
        _put_tag(out, 13, _FIXED64)
        out += struct.pack("<d", _float_of(value, where))
    elif kind is DataType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError(f"{where}: Boolean needs a bool, got {value!r}")
        _put_varint_field(out, 14, int(value))
    elif kind in _STRING_TYPES:
        if not isinstance(value, str):
            raise ValueError(f"{where}: {kind.name} needs a str, got {value!r}")
        _put_len_field(out, 15, value.encode())
    elif kind in _BYTES_TYPES:
        if not isinstance(value, bytes):
            raise ValueError(f"{where}: {kind.name} needs bytes, got {value!r}")
        _put_len_field(out, 16, value)
    else:
        raise ValueError(f"{where}: encoding {kind.name} values is not supported")


def _encode_properties(properties: Mapping[str, PropertyValue]) -> bytes:
    out = bytearray()
    for key in properties:
        _put_len_field(out, 1, key.encode())
    for key, value in properties.items():
        _put_len_field(out, 2, _encode_property_value(key, value))
    return bytes(out)


def _encode_property_value(key: str, value: PropertyValue) -> bytes:
    out = bytearray()
    if value is None:
        _put_varint_field(out, 1, DataType.STRING)
        _put_varint_field(out, 2, 1)
    elif isinstance(value, bool):
        _put_varint_field(out, 1, DataType.BOOLEAN)
        _put_varint_field(out, 7, int(value))
    elif isinstance(value, int) and -(2**31) <= value < 2**31:
        _put_varint_field(out, 1, DataType.INT32)  # e.g. "Quality": Int32 as the spec asks
        _put_varint_field(out, 3, value & _UINT32_MASK)
    elif isinstance(value, int):
        _put_varint_field(out, 1, DataType.INT64)
        _put_varint_field(out, 4, value & _UINT64_MASK)
    elif isinstance(value, float):
        _put_varint_field(out, 1, DataType.DOUBLE)
        _put_tag(out, 6, _FIXED64)
        out += struct.pack("<d", value)
    elif isinstance(value, str):
        _put_varint_field(out, 1, DataType.STRING)
        _put_len_field(out, 8, value.encode())
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
    for number, wire, value in _fields(data):
        if number == 1 and wire == _VARINT:
            timestamp = _as_int(value) & _UINT64_MASK
        elif number == 2 and wire == _LEN:
            metrics.append(_decode_metric(_as_view(value)))
        elif number == 3 and wire == _VARINT:
            seq = _as_int(value) & _UINT64_MASK
        elif number == 4 and wire == _LEN:
            uuid = str(_as_view(value), "utf-8")
        elif number == 5 and wire == _LEN:
            body = bytes(_as_view(value))
    return Payload(timestamp=timestamp, metrics=tuple(metrics), seq=seq, uuid=uuid, body=body)


def _decode_metric(data: memoryview) -> Metric:
    name: str | None = None
    alias: int | None = None
    timestamp: int | None = None
    datatype: int | None = None
    flags = {5: False, 6: False, 7: False}
    properties: dict[str, PropertyValue] = {}
    value: MetricValue = None
    for number, wire, raw in _fields(data):
        if number == 1 and wire == _LEN:
            name = str(_as_view(raw), "utf-8")
        elif number == 2 and wire == _VARINT:
            alias = _as_int(raw) & _UINT64_MASK
        elif number == 3 and wire == _VARINT:
            timestamp = _as_int(raw) & _UINT64_MASK
        elif number == 4 and wire == _VARINT:
            datatype = _as_int(raw) & _UINT32_MASK
        elif number in flags and wire == _VARINT:
            flags[number] = _as_int(raw) != 0
        elif number == 9 and wire == _LEN:
            properties = _decode_properties(_as_view(raw))
        elif number == 10 and wire == _VARINT:
            value = _as_int(raw) & _UINT32_MASK
        elif number == 11 and wire == _VARINT:
            value = _as_int(raw) & _UINT64_MASK
        elif number == 12 and wire == _FIXED32:
            value = struct.unpack("<f", _as_view(raw))[0]
        elif number == 13 and wire == _FIXED64:
            value = struct.unpack("<d", _as_view(raw))[0]
        elif number == 14 and wire == _VARINT:
            value = _as_int(raw) != 0
        elif number == 15 and wire == _LEN:
            value = str(_as_view(raw), "utf-8")
        elif number == 16 and wire == _LEN:
            value = bytes(_as_view(raw))
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
    for number, wire, raw in _fields(data):
        if number == 1 and wire == _LEN:
            keys.append(str(_as_view(raw), "utf-8"))
        elif number == 2 and wire == _LEN:
            values.append(_decode_property_value(_as_view(raw)))
    if len(keys) != len(values):
        raise ValueError(f"a property set has {len(keys)} keys but {len(values)} values")
    return dict(zip(keys, values, strict=True))


def _decode_property_value(data: memoryview) -> PropertyValue:
    datatype: int | None = None
    is_null = False
    value: PropertyValue = None
    for number, wire, raw in _fields(data):
        if number == 1 and wire == _VARINT:
            datatype = _as_int(raw) & _UINT32_MASK
        elif number == 2 and wire == _VARINT:
            is_null = _as_int(raw) != 0
        elif number == 3 and wire == _VARINT:
            value = _as_int(raw) & _UINT32_MASK
        elif number == 4 and wire == _VARINT:
            value = _as_int(raw) & _UINT64_MASK
        elif number == 5 and wire == _FIXED32:
            value = struct.unpack("<f", _as_view(raw))[0]
        elif number == 6 and wire == _FIXED64:
            value = struct.unpack("<d", _as_view(raw))[0]
        elif number == 7 and wire == _VARINT:
            value = _as_int(raw) != 0
        elif number == 8 and wire == _LEN:
            value = str(_as_view(raw), "utf-8")
        elif number in (9, 10, 11):
            value = None  # nested property sets and extensions: not read here
    if is_null:
        return None
    typed = as_type(value, datatype)
    return None if isinstance(typed, bytes) else typed


def _fields(data: memoryview) -> list[tuple[int, int, int | memoryview]]:
    """Every (field number, wire type, value) of one message; unknown wire types are errors."""
    fields: list[tuple[int, int, int | memoryview]] = []
    position = 0
    while position < len(data):
        key, position = _read_varint(data, position)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError(f"field number 0 at byte {position}")
        value: int | memoryview
        if wire == _VARINT:
            value, position = _read_varint(data, position)
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            value, position = _slice(data, position, size), position + size
        elif wire == _LEN:
            size, position = _read_varint(data, position)
            value, position = _slice(data, position, size), position + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} in field {number}")
        fields.append((number, wire, value))
    return fields


def _slice(data: memoryview, start: int, size: int) -> memoryview:
    if start + size > len(data):
        raise ValueError(f"truncated: a field needs {size} bytes at byte {start} of {len(data)}")
    return data[start : start + size]


def _read_varint(data: memoryview, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data):
            raise ValueError("truncated varint at the end of the data")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
        if shift >= 70:
            raise ValueError("varint longer than 10 bytes")


def _as_int(value: int | memoryview) -> int:
    if not isinstance(value, int):
        raise ValueError("expected a varint")
    return value


def _as_view(value: int | memoryview) -> memoryview:
    if isinstance(value, int):
        raise ValueError("expected a length-delimited or fixed-width field")
    return value


def _put_tag(out: bytearray, number: int, wire: int) -> None:
    _put_varint(out, number << 3 | wire)


def _put_varint_field(out: bytearray, number: int, value: int) -> None:
    if value < 0 or value > _UINT64_MASK:
        raise ValueError(f"field {number}: {value} does not fit an unsigned 64-bit varint")
    _put_tag(out, number, _VARINT)
    _put_varint(out, value)


def _put_len_field(out: bytearray, number: int, value: bytes) -> None:
    _put_tag(out, number, _LEN)
    _put_varint(out, len(value))
    out += value


def _put_varint(out: bytearray, value: int) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def is_numeric_setpoint(datatype: int | None) -> bool:
    """True for the datatypes a setpoint can have: integers, Float, Double and Boolean."""
    kind = datatype_of(datatype)
    return kind in (DataType.FLOAT, DataType.DOUBLE, DataType.BOOLEAN) or (
        kind in INTEGER_TYPES and kind is not DataType.DATETIME
    )


def stored_as(target: float, datatype: int | None) -> int | float | bool:
    """`target` as `datatype` stores it; TypeError if not a numeric type, ValueError if unfit."""
    kind = datatype_of(datatype)
    if kind is None or not is_numeric_setpoint(kind):
        raise TypeError(f"{datatype_name(datatype)} is not a numeric setpoint type")
    if not math.isfinite(target):
        raise ValueError(f"{target} is not a finite number")
    if kind is DataType.DOUBLE:
        return float(target)
    if kind is DataType.FLOAT:
        try:
            stored: float = struct.unpack("<f", struct.pack("<f", target))[0]
        except OverflowError as err:
            raise ValueError(f"{target:g} is outside the range of Float values") from err
        return stored
    if kind is DataType.BOOLEAN:
        if target not in (0.0, 1.0):
            raise ValueError(f"a Boolean takes 0 or 1, not {target:g}")
        return target == 1.0
    whole = round(target)
    if not math.isclose(target, whole, abs_tol=1e-6):
        raise ValueError(f"{kind.name} holds whole numbers; {target:g} cannot be written exactly")
    bits, signed = INTEGER_TYPES[kind]
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= whole <= high:
        raise ValueError(f"{kind.name} holds values in [{low}, {high}]; {whole} does not fit")
    return whole


def number_of(value: MetricValue) -> float | None:
    """A scalar value as a float (Boolean as 0/1), or None when it is not a finite number."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    return None

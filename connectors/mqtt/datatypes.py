"""Sparkplug B datatypes: the enum and its names, reading wire integers as their type, and the
numeric types a setpoint can have with the value each stores."""

from __future__ import annotations

import math
import struct
from enum import IntEnum

MetricValue = int | float | bool | str | bytes | None
PropertyValue = int | float | bool | str | None


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
STRING_TYPES = frozenset({DataType.STRING, DataType.TEXT, DataType.UUID})
BYTES_TYPES = frozenset({DataType.BYTES, DataType.FILE}) | frozenset(
    DataType(number) for number in range(DataType.INT8_ARRAY, DataType.DATETIME_ARRAY + 1)
)


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

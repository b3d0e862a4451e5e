"""A numeric node's own data type, and a target value as that type can hold it."""

from __future__ import annotations

import math
import struct

from asyncua import ua

from factory_agents.errors import ConnectorError, GuardrailViolation

_INTEGER_RANGES: dict[ua.VariantType, tuple[int, int]] = {
    ua.VariantType.SByte: (-(2**7), 2**7 - 1),
    ua.VariantType.Byte: (0, 2**8 - 1),
    ua.VariantType.Int16: (-(2**15), 2**15 - 1),
    ua.VariantType.UInt16: (0, 2**16 - 1),
    ua.VariantType.Int32: (-(2**31), 2**31 - 1),
    ua.VariantType.UInt32: (0, 2**32 - 1),
    ua.VariantType.Int64: (-(2**63), 2**63 - 1),
    ua.VariantType.UInt64: (0, 2**64 - 1),
}
_FLOAT_TYPES = frozenset({ua.VariantType.Float, ua.VariantType.Double})
# Builtin DataType NodeIds ns=0;i=1..25 have the same numbers as the VariantTypes.
_LAST_BUILTIN_TYPE = 25


def variant_type_of(node_id: str, value: ua.DataValue, data_type: ua.DataValue) -> ua.VariantType:
    """The variant type a write to this node must use: its value's type, else its DataType."""
    variant_type = value.Value.VariantType if value.Value is not None else ua.VariantType.Null
    if variant_type == ua.VariantType.Null:
        type_id = data_type.Value.Value if data_type.Value is not None else None
        if (
            isinstance(type_id, ua.NodeId)
            and type_id.NamespaceIndex == 0
            and isinstance(type_id.Identifier, int)
            and 0 < type_id.Identifier <= _LAST_BUILTIN_TYPE
        ):
            variant_type = ua.VariantType(type_id.Identifier)
    if variant_type not in _FLOAT_TYPES and variant_type not in _INTEGER_RANGES:
        raise ConnectorError(
            f"{node_id} holds {variant_type.name} values, not numbers; a setpoint must be a"
            " numeric node. Check the node id in the policy's allow-list"
        )
    return variant_type


def as_written(node_id: str, target: float, variant_type: ua.VariantType) -> float | int:
    """`target` as the node will store it (float32 rounding, whole numbers) or a violation."""
    if variant_type == ua.VariantType.Double:
        return float(target)
    if variant_type == ua.VariantType.Float:
        try:
            stored: float = struct.unpack("<f", struct.pack("<f", target))[0]
        except OverflowError as err:
            raise GuardrailViolation(
                f"{node_id} holds Float values; {target:g} is out of their range and nothing"
                " was written"
            ) from err
        return stored
    whole = round(target)
    if not math.isclose(target, whole, abs_tol=1e-6):
        raise GuardrailViolation(
            f"{node_id} holds whole numbers ({variant_type.name}); {target:g} cannot be written"
            " exactly and nothing was written. Propose a whole number"
        )
    low, high = _INTEGER_RANGES[variant_type]
    if not low <= whole <= high:
        raise GuardrailViolation(
            f"{node_id} holds {variant_type.name} values in [{low}, {high}]; {whole} does not fit"
            " and nothing was written"
        )
    return whole

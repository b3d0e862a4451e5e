"""The protobuf wire format, as far as Sparkplug B payloads need it: varints, fixed-width and
length-delimited fields, read from a memoryview and appended to a bytearray."""

from __future__ import annotations

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5
UINT32_MASK = 0xFFFF_FFFF
UINT64_MASK = 0xFFFF_FFFF_FFFF_FFFF


def message_fields(data: memoryview) -> list[tuple[int, int, int | memoryview]]:
    """Every (field number, wire type, value) of one message; unknown wire types are errors."""
    found: list[tuple[int, int, int | memoryview]] = []
    position = 0
    while position < len(data):
        key, position = read_varint(data, position)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError(f"field number 0 at byte {position}")
        value: int | memoryview
        if wire == VARINT:
            value, position = read_varint(data, position)
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            value, position = view_slice(data, position, size), position + size
        elif wire == LEN:
            size, position = read_varint(data, position)
            value, position = view_slice(data, position, size), position + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} in field {number}")
        found.append((number, wire, value))
    return found


def view_slice(data: memoryview, start: int, size: int) -> memoryview:
    """Bytes `start` to `start + size`, or ValueError when the data ends before."""
    if start + size > len(data):
        raise ValueError(f"truncated: a field needs {size} bytes at byte {start} of {len(data)}")
    return data[start : start + size]


def read_varint(data: memoryview, position: int) -> tuple[int, int]:
    """The varint at `position` and the position after it."""
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


def as_int(value: int | memoryview) -> int:
    """A varint field's value; ValueError for any other wire type."""
    if not isinstance(value, int):
        raise ValueError("expected a varint")
    return value


def as_view(value: int | memoryview) -> memoryview:
    """A length-delimited or fixed-width field's bytes; ValueError for a varint."""
    if isinstance(value, int):
        raise ValueError("expected a length-delimited or fixed-width field")
    return value


def put_tag(out: bytearray, number: int, wire: int) -> None:
    """Append a field's key: its number and wire type."""
    put_varint(out, number << 3 | wire)


def put_varint_field(out: bytearray, number: int, value: int) -> None:
    """Append an unsigned varint field."""
    if value < 0 or value > UINT64_MASK:
        raise ValueError(f"field {number}: {value} does not fit an unsigned 64-bit varint")
    put_tag(out, number, VARINT)
    put_varint(out, value)


def put_len_field(out: bytearray, number: int, value: bytes) -> None:
    """Append a length-delimited field."""
    put_tag(out, number, LEN)
    put_varint(out, len(value))
    out += value


def put_varint(out: bytearray, value: int) -> None:
    """Append `value` as a base-128 varint."""
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return

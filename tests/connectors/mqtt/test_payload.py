"""The Sparkplug B payload codec: round trips, and agreement with Google's protobuf runtime."""

from __future__ import annotations

import math
import struct

import pytest

from connectors.mqtt.datatypes import DataType, as_type, number_of, stored_as
from connectors.mqtt.payload import Metric, Payload, decode, encode
from factory_agents.errors import ConnectorError
from tests.connectors.mqtt.reference_proto import ReferencePayload

NOW_MS = 1_767_225_600_123  # 2026-01-01T00:00:00.123Z

ROUND_TRIP_METRICS = [
    Metric(name="Int8 min", alias=1, timestamp=NOW_MS, datatype=DataType.INT8, value=-128),
    Metric(name="Int8 -1", alias=2, timestamp=NOW_MS, datatype=DataType.INT8, value=-1),
    Metric(name="Int8 max", alias=3, datatype=DataType.INT8, value=127),
    Metric(name="Int16", alias=4, datatype=DataType.INT16, value=-87),
    Metric(name="Int32", alias=5, datatype=DataType.INT32, value=-(2**31)),
    Metric(name="Int64", alias=6, datatype=DataType.INT64, value=-(2**63)),
    Metric(name="UInt8", alias=7, datatype=DataType.UINT8, value=255),
    Metric(name="UInt16", alias=8, datatype=DataType.UINT16, value=65_535),
    Metric(name="UInt32", alias=9, datatype=DataType.UINT32, value=2**32 - 1),
    Metric(name="UInt64", alias=10, datatype=DataType.UINT64, value=2**64 - 1),
    Metric(name="Float", alias=11, datatype=DataType.FLOAT, value=499.5),
    Metric(name="Double", alias=12, datatype=DataType.DOUBLE, value=math.pi),
    Metric(name="Boolean", alias=13, datatype=DataType.BOOLEAN, value=True),
    Metric(name="Füllgewicht/Soll", alias=14, datatype=DataType.STRING, value="grüß 🙂"),
    Metric(name="Text", alias=15, datatype=DataType.TEXT, value=""),
    Metric(name="DateTime", alias=16, datatype=DataType.DATETIME, value=NOW_MS),
    Metric(name="Bytes", alias=17, datatype=DataType.BYTES, value=b"\x00\xff"),
    Metric(name="Null", alias=18, datatype=DataType.DOUBLE, is_null=True),
    Metric(alias=19, timestamp=NOW_MS, value=False, is_historical=True, is_transient=True),
    Metric(name="bdSeq", datatype=DataType.INT64, value=0),
    Metric(
        name="With properties",
        datatype=DataType.FLOAT,
        value=1.5,
        properties={
            "Quality": 192,
            "engUnit": "g",
            "low": -2.5,
            "readOnly": False,
            "big": -(2**40),
            "note": None,
        },
    ),
]


def test_every_common_type_round_trips() -> None:
    payload = Payload(
        timestamp=NOW_MS, metrics=tuple(ROUND_TRIP_METRICS), seq=255, uuid="u-1", body=b"x"
    )
    assert decode(encode(payload)) == payload
    empty = Payload()
    assert encode(empty) == b""
    assert decode(b"") == empty


def test_hand_built_bytes_decode_and_encode_alike() -> None:
    # timestamp=1 (field 1 varint), one metric {alias=7, boolean_value=true}, seq=0 (field 3).
    wire = b"\x08\x01" + b"\x12\x04\x10\x07\x70\x01" + b"\x18\x00"
    payload = Payload(timestamp=1, metrics=(Metric(alias=7, value=True),), seq=0)
    assert decode(wire) == payload
    assert encode(payload) == wire


def test_decodes_what_googles_protobuf_runtime_encodes() -> None:
    reference = ReferencePayload(timestamp=NOW_MS, seq=17, uuid="schema-1")
    reference.body = b"raw"
    born = reference.metrics.add(name="Line/Speed", alias=5, timestamp=NOW_MS, datatype=3)
    born.int_value = 0xFFFF_FFC4  # Int32 -60, sign-extended to 32 bits as Tahu (Java) sends it
    born.properties.keys.append("engUnit")
    born.properties.values.add(type=12, string_value="bpm")
    born.metadata.content_type = "text/plain"
    narrow = reference.metrics.add(name="Int8 narrow", datatype=1)
    narrow.int_value = 0xFF  # Int8 -1 without sign extension, as some encoders send it
    int16 = reference.metrics.add(name="Int16", datatype=2)
    int16.int_value = 0xFFFF_FFA9  # -87
    int64 = reference.metrics.add(name="Int64", datatype=4)
    int64.long_value = 2**64 - 5
    legacy = reference.metrics.add(name="UInt32 in long_value", datatype=7)
    legacy.long_value = 4_000_000_000
    reference.metrics.add(name="Float", datatype=9, float_value=0.1)
    reference.metrics.add(name="Double", datatype=10, double_value=-2.5)
    reference.metrics.add(name="Bool", datatype=11, boolean_value=False)
    reference.metrics.add(name="Str", datatype=12, string_value="Läuft")
    reference.metrics.add(name="Null", datatype=10, is_null=True)
    reference.metrics.add(alias=5, int_value=61, timestamp=NOW_MS + 1)

    decoded = decode(reference.SerializeToString())

    assert (decoded.timestamp, decoded.seq, decoded.uuid, decoded.body) == (
        NOW_MS,
        17,
        "schema-1",
        b"raw",
    )
    values = {metric.name: metric.value for metric in decoded.metrics}
    assert values["Line/Speed"] == -60
    assert values["Int8 narrow"] == -1
    assert values["Int16"] == -87
    assert values["Int64"] == -5
    assert values["UInt32 in long_value"] == 4_000_000_000
    assert values["Float"] == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert values["Double"] == -2.5
    assert values["Bool"] is False
    assert values["Str"] == "Läuft"
    assert values["Null"] is None and decoded.metrics[-2].is_null
    first, last = decoded.metrics[0], decoded.metrics[-1]
    assert first.properties == {"engUnit": "bpm"}  # metadata skipped, properties read
    assert (first.alias, first.timestamp, first.datatype) == (5, NOW_MS, DataType.INT32)
    assert (last.name, last.alias, last.datatype, last.value) == (None, 5, None, 61)


def test_googles_protobuf_runtime_reads_what_we_encode() -> None:
    payload = Payload(timestamp=NOW_MS, metrics=tuple(ROUND_TRIP_METRICS), seq=3)
    reference = ReferencePayload.FromString(encode(payload))
    assert (reference.timestamp, reference.seq, len(reference.metrics)) == (NOW_MS, 3, 21)
    by_name = {metric.name: metric for metric in reference.metrics if metric.HasField("name")}
    assert by_name["Int8 -1"].int_value == 0xFFFF_FFFF  # sign-extended two's complement
    assert by_name["Int8 -1"].WhichOneof("value") == "int_value"
    assert by_name["Int16"].int_value == 0xFFFF_FFA9
    assert by_name["Int64"].long_value == 2**63
    assert by_name["UInt32"].WhichOneof("value") == "int_value"  # Sparkplug 3.0, not long
    assert by_name["UInt64"].long_value == 2**64 - 1
    assert by_name["Float"].float_value == 499.5
    assert by_name["Double"].double_value == math.pi
    assert by_name["Boolean"].boolean_value is True
    assert by_name["Füllgewicht/Soll"].string_value == "grüß 🙂"
    assert by_name["DateTime"].long_value == NOW_MS
    assert by_name["Bytes"].bytes_value == b"\x00\xff"
    assert by_name["Null"].is_null and by_name["Null"].WhichOneof("value") is None
    assert by_name["Int8 min"].datatype == DataType.INT8 and by_name["Int8 min"].alias == 1
    alias_only = reference.metrics[18]
    assert not alias_only.HasField("name") and not alias_only.HasField("datatype")
    assert (alias_only.alias, alias_only.is_historical, alias_only.is_transient) == (19, True, True)
    assert alias_only.boolean_value is False and alias_only.HasField("boolean_value")
    properties = by_name["With properties"].properties
    assert list(properties.keys) == ["Quality", "engUnit", "low", "readOnly", "big", "note"]
    quality, unit = properties.values[0], properties.values[1]
    assert (quality.type, quality.int_value) == (DataType.INT32, 192)  # as the spec asks
    assert (unit.type, unit.string_value) == (DataType.STRING, "g")
    assert properties.values[5].is_null


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x08", "truncated varint"),
        (b"\x12\x05\x0a\x01", "truncated"),
        (b"\x0b", "wire type 3"),
        (b"\x22\x02\xc3\x28", "utf-8"),
        (b"\x08" + b"\xff" * 11, "longer than 10 bytes"),
        (b'{"online": true}', ""),
    ],
)
def test_bytes_that_are_not_a_payload_are_a_clear_connector_error(data: bytes, why: str) -> None:
    with pytest.raises(ConnectorError, match="not a Sparkplug B payload") as raised:
        decode(data)
    assert why in str(raised.value)
    assert raised.value.__cause__ is not None


def test_values_a_datatype_cannot_carry_are_refused_when_encoding() -> None:
    def encoded(metric: Metric) -> bytes:
        return encode(Payload(metrics=(metric,)))

    with pytest.raises(ValueError, match=r"128 is outside the INT8 range \[-128, 127\]"):
        encoded(Metric(name="m", datatype=DataType.INT8, value=128))
    with pytest.raises(ValueError, match="UINT32 range"):
        encoded(Metric(name="m", datatype=DataType.UINT32, value=-1))
    with pytest.raises(ValueError, match="needs an int"):
        encoded(Metric(name="m", datatype=DataType.INT32, value=1.5))
    with pytest.raises(ValueError, match="needs a bool"):
        encoded(Metric(name="m", datatype=DataType.BOOLEAN, value=1))
    with pytest.raises(ValueError, match="encoding DATASET values is not supported"):
        encoded(Metric(name="m", datatype=DataType.DATASET, value=b""))


def test_integers_are_read_as_their_datatype() -> None:
    assert as_type(0xFFFF_FF80, DataType.INT8) == -128
    assert as_type(-128, DataType.INT8) == -128  # idempotent
    assert as_type(0x7F, DataType.INT8) == 127
    assert as_type(2**64 - 1, DataType.INT64) == -1
    assert as_type(2**32 - 1, DataType.UINT32) == 2**32 - 1
    assert as_type(1, DataType.BOOLEAN) is True
    assert as_type(7, None) == 7
    assert as_type(7, 999) == 7
    assert as_type("7", DataType.INT8) == "7"


def test_targets_are_stored_as_their_datatype_holds_them() -> None:
    assert stored_as(500.1, DataType.FLOAT) == struct.unpack("<f", struct.pack("<f", 500.1))[0]
    assert stored_as(500.1, DataType.DOUBLE) == 500.1
    assert stored_as(62.0000001, DataType.INT32) == 62
    assert stored_as(1.0, DataType.BOOLEAN) is True
    assert stored_as(-128.0, DataType.INT8) == -128
    with pytest.raises(ValueError, match="whole numbers"):
        stored_as(62.5, DataType.INT32)
    with pytest.raises(ValueError, match="does not fit"):
        stored_as(256.0, DataType.UINT8)
    with pytest.raises(ValueError, match="outside the range of Float"):
        stored_as(1e39, DataType.FLOAT)
    with pytest.raises(ValueError, match="0 or 1"):
        stored_as(2.0, DataType.BOOLEAN)
    with pytest.raises(ValueError, match="not a finite number"):
        stored_as(math.inf, DataType.DOUBLE)
    for not_numeric in (DataType.STRING, DataType.DATETIME, None):
        with pytest.raises(TypeError, match="not a numeric setpoint type"):
            stored_as(1.0, not_numeric)


def test_numbers_of_values() -> None:
    assert number_of(True) == 1.0
    assert number_of(-3) == -3.0
    assert number_of(2.5) == 2.5
    assert number_of(math.nan) is None
    assert number_of("2.5") is None
    assert number_of(None) is None

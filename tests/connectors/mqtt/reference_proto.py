"""An independent Sparkplug B encoder for the codec tests: Google's protobuf runtime.

The messages are declared field by field from Eclipse Tahu's sparkplug_b/sparkplug_b.proto
(proto2, package org.eclipse.tahu.protobuf): Payload, Payload.Metric and the parts of
Payload.PropertySet / PropertyValue / MetaData the tests use to check that unknown nested
messages are skipped. Encoding and decoding are done by the installed protobuf runtime.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
_OPTIONAL, _REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
_PACKAGE = "org.eclipse.tahu.protobuf"


def _field(
    message: Any,
    name: str,
    number: int,
    kind: int,
    *,
    label: int = _OPTIONAL,
    type_name: str | None = None,
    oneof: int | None = None,
) -> None:
    field = message.field.add(name=name, number=number, type=kind, label=label)
    if type_name is not None:
        field.type_name = f".{_PACKAGE}.{type_name}"
    if oneof is not None:
        field.oneof_index = oneof


def _file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="sparkplug_b_reference.proto", package=_PACKAGE, syntax="proto2"
    )
    payload = file.message_type.add(name="Payload")
    _field(payload, "timestamp", 1, _F.TYPE_UINT64)
    _field(payload, "metrics", 2, _F.TYPE_MESSAGE, label=_REPEATED, type_name="Payload.Metric")
    _field(payload, "seq", 3, _F.TYPE_UINT64)
    _field(payload, "uuid", 4, _F.TYPE_STRING)
    _field(payload, "body", 5, _F.TYPE_BYTES)

    value = payload.nested_type.add(name="PropertyValue")
    value.oneof_decl.add(name="value")
    _field(value, "type", 1, _F.TYPE_UINT32)
    _field(value, "is_null", 2, _F.TYPE_BOOL)
    _field(value, "int_value", 3, _F.TYPE_UINT32, oneof=0)
    _field(value, "string_value", 8, _F.TYPE_STRING, oneof=0)

    properties = payload.nested_type.add(name="PropertySet")
    _field(properties, "keys", 1, _F.TYPE_STRING, label=_REPEATED)
    _field(
        properties,
        "values",
        2,
        _F.TYPE_MESSAGE,
        label=_REPEATED,
        type_name="Payload.PropertyValue",
    )

    metadata = payload.nested_type.add(name="MetaData")
    _field(metadata, "is_multi_part", 1, _F.TYPE_BOOL)
    _field(metadata, "content_type", 2, _F.TYPE_STRING)

    metric = payload.nested_type.add(name="Metric")
    metric.oneof_decl.add(name="value")
    _field(metric, "name", 1, _F.TYPE_STRING)
    _field(metric, "alias", 2, _F.TYPE_UINT64)
    _field(metric, "timestamp", 3, _F.TYPE_UINT64)
    _field(metric, "datatype", 4, _F.TYPE_UINT32)
    _field(metric, "is_historical", 5, _F.TYPE_BOOL)
    _field(metric, "is_transient", 6, _F.TYPE_BOOL)
    _field(metric, "is_null", 7, _F.TYPE_BOOL)
    _field(metric, "metadata", 8, _F.TYPE_MESSAGE, type_name="Payload.MetaData")
    _field(metric, "properties", 9, _F.TYPE_MESSAGE, type_name="Payload.PropertySet")
    _field(metric, "int_value", 10, _F.TYPE_UINT32, oneof=0)
    _field(metric, "long_value", 11, _F.TYPE_UINT64, oneof=0)
    _field(metric, "float_value", 12, _F.TYPE_FLOAT, oneof=0)
    _field(metric, "double_value", 13, _F.TYPE_DOUBLE, oneof=0)
    _field(metric, "boolean_value", 14, _F.TYPE_BOOL, oneof=0)
    _field(metric, "string_value", 15, _F.TYPE_STRING, oneof=0)
    _field(metric, "bytes_value", 16, _F.TYPE_BYTES, oneof=0)
    return file


def _payload_class() -> Any:
    pool: Any = descriptor_pool.DescriptorPool()  # the stubs leave its methods untyped
    pool.Add(_file())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Payload"))


ReferencePayload: Any = _payload_class()

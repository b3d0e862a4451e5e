"""Translate OPC UA DataValues into the platform's Samples: quality, source time, float value."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from asyncua import ua
from asyncua.ua.status_codes import get_name_and_doc
from asyncua.ua.uaerrors import UaError

from factory_agents.errors import ConfigurationError
from factory_agents.plant import Quality, Sample

# OPC UA encodes "no timestamp" as 1601-01-01 (the FILETIME epoch); anything this early is absent.
_NO_TIMESTAMP_BEFORE = datetime(1601, 1, 2, tzinfo=UTC)
_NOT_GOOD = 0xC0000000
_validate_sample = Sample.__pydantic_validator__.validate_python  # Sample(...) minus overhead
FUTURE_TOLERANCE = timedelta(seconds=2)
"""Source timestamps further ahead of this machine's clock are rejected (quality Bad)."""
_NUMERIC_TYPES = frozenset(
    {
        ua.VariantType.Boolean,
        ua.VariantType.SByte,
        ua.VariantType.Byte,
        ua.VariantType.Int16,
        ua.VariantType.UInt16,
        ua.VariantType.Int32,
        ua.VariantType.UInt32,
        ua.VariantType.Int64,
        ua.VariantType.UInt64,
        ua.VariantType.Float,
        ua.VariantType.Double,
    }
)


def parse_node_id(node_id: str) -> ua.NodeId:
    """The NodeId of a string such as 'ns=2;s=Line1.GoodCount', or ConfigurationError."""
    try:
        return ua.NodeId.from_string(node_id)
    except UaError as err:
        raise ConfigurationError(
            f"{node_id!r} is not an OPC UA NodeId; write it as ns=<index>;s=<name> or"
            " ns=<index>;i=<number>, e.g. ns=2;s=Line1.GoodCount"
        ) from err


def status_name(status: ua.StatusCode | None) -> str:
    """The symbolic name of a status code, e.g. 'BadNodeIdUnknown'."""
    if status is None:
        return "Good"
    name, _doc = get_name_and_doc(int(status.value) & 0xFFFF0000)
    return name


def quality_of(status: ua.StatusCode | None) -> Quality:
    """Good, Uncertain or Bad, from the severity bits of an OPC UA status code."""
    if status is None or status.is_good():
        return Quality.GOOD
    if status.is_uncertain():
        return Quality.UNCERTAIN
    return Quality.BAD


def numeric_value(value: ua.DataValue) -> float | None:
    """The value as a float if it is a numeric scalar (counters included), else None."""
    variant = value.Value
    if variant is None or variant.VariantType not in _NUMERIC_TYPES:
        return None
    raw = variant.Value
    if isinstance(raw, bool | int | float):
        return float(raw)
    return None


def source_time(value: ua.DataValue, received_at: datetime) -> datetime:
    """SourceTimestamp, else ServerTimestamp, else the time the answer arrived; always UTC."""
    for stamp in (value.SourceTimestamp, value.ServerTimestamp):
        aware = aware_time(stamp)
        if aware is not None:
            return aware
    return received_at


def to_sample(tag: str, value: ua.DataValue, received_at: datetime) -> Sample:
    """One Sample from one DataValue; Bad or non-numeric values become NaN with BAD quality."""
    quality = quality_of(value.StatusCode)
    number = numeric_value(value)
    if number is None or quality is Quality.BAD or not math.isfinite(number):
        number, quality = math.nan, Quality.BAD
    return Sample(
        tag=tag, value=number, source_time=source_time(value, received_at), quality=quality
    )


def aware_time(stamp: datetime | None) -> datetime | None:
    """A timestamp in UTC, or None when absent (OPC UA's 1601 epoch counts as absent)."""
    if stamp is None:
        return None
    aware = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    return aware if aware >= _NO_TIMESTAMP_BEFORE else None


def fast_sample(
    tag: str, value: ua.DataValue, future: datetime, stale: datetime | None
) -> Sample | None:
    """The common case (Good number with a plausible source time) quickly, else None.

    Gives the same Sample as `to_sample` followed by `judged` (a test checks this); anything
    unusual (a status other than Good, no source timestamp, a non-finite or non-scalar value,
    a future or stale time) returns None and takes that slower, complete path.
    """
    status = value.StatusCode
    if status is not None and status.value & _NOT_GOOD:
        return None
    variant = value.Value
    if variant is None:
        return None
    raw = variant.Value
    if type(raw) is not float and type(raw) is not int:  # numbers only: not bool, str, lists
        return None
    stamp = value.SourceTimestamp
    if (
        stamp is None
        or stamp.tzinfo is not UTC
        or not math.isfinite(raw)
        or stamp < _NO_TIMESTAMP_BEFORE
        or stamp > future
        or (stale is not None and stamp < stale)
    ):
        return None
    sample: Sample = _validate_sample(
        {"tag": tag, "value": raw, "source_time": stamp, "quality": Quality.GOOD}
    )
    return sample


def reject_future(sample: Sample, received_at: datetime) -> Sample:
    """History values are old by nature: only those stamped in the future are rejected."""
    if sample.quality is not Quality.BAD and sample.source_time - received_at > FUTURE_TOLERANCE:
        return sample.model_copy(update={"value": math.nan, "quality": Quality.BAD})
    return sample

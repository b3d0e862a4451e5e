"""HostState on crafted message sequences: the edge cases the broker tests do not reach."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from connectors.mqtt.datatypes import DataType
from connectors.mqtt.payload import Metric, Payload
from connectors.mqtt.state import HostState, quality_of_code
from connectors.mqtt.topics import MessageType, TagAddress, Topic
from factory_agents.errors import DataQualityError
from factory_agents.plant import Quality

GROUP, EDGE = "G", "E"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
MS0 = int(T0.timestamp() * 1000)
SPEED = TagAddress(GROUP, EDGE, "Filler", "Speed")
LEVEL = TagAddress(GROUP, EDGE, "Capper", "Level")


def _topic(kind: MessageType, device: str | None = None) -> Topic:
    return Topic(GROUP, kind, EDGE, device)


def _born(state: HostState, *, bd_seq: int = 0) -> None:
    node = Payload(
        timestamp=MS0,
        seq=0,
        metrics=(
            Metric(name="bdSeq", alias=1, timestamp=MS0, datatype=DataType.INT64, value=bd_seq),
            Metric(name="Node Control/Rebirth", alias=2, datatype=DataType.BOOLEAN, value=False),
        ),
    )
    assert state.apply(_topic(MessageType.NBIRTH), node, T0) is None
    filler = Payload(
        timestamp=MS0,
        seq=1,
        metrics=(Metric(name="Speed", alias=10, timestamp=MS0, datatype=DataType.INT16, value=60),),
    )
    assert state.apply(_topic(MessageType.DBIRTH, "Filler"), filler, T0) is None
    capper = Payload(
        timestamp=MS0,
        seq=2,
        metrics=(Metric(name="Level", alias=20, datatype=DataType.DOUBLE, value=1.5),),
    )
    assert state.apply(_topic(MessageType.DBIRTH, "Capper"), capper, T0) is None


def _ddata(device: str, seq: int, *metrics: Metric) -> tuple[Topic, Payload]:
    return _topic(MessageType.DDATA, device), Payload(timestamp=MS0 + seq, seq=seq, metrics=metrics)


def test_seq_wraps_from_255_to_0_without_a_gap() -> None:
    state = HostState(GROUP)
    _born(state)
    for seq in [*range(3, 256), 0, 1]:
        assert state.apply(*_ddata("Filler", seq, Metric(alias=10, value=seq)), T0) is None
    sample = state.sample(SPEED, T0)
    assert sample.quality is Quality.GOOD and sample.value == 1.0
    assert state.stats["seq_gap"] == 0


def test_a_missing_seq_and_an_alias_of_another_device_make_the_node_stale() -> None:
    state = HostState(GROUP)
    _born(state)
    no_seq = Payload(metrics=(Metric(alias=10, value=61),))
    assert state.apply(_topic(MessageType.DDATA, "Filler"), no_seq, T0) == "a message without seq"
    assert state.sample(SPEED, T0).quality is Quality.UNCERTAIN

    state = HostState(GROUP)
    _born(state)
    reason = state.apply(*_ddata("Filler", 3, Metric(alias=20, value=2.0)), T0)
    assert reason == "alias 20 is not a metric of device Filler in its births"
    assert state.stats["unknown_metric"] == 1
    assert state.sample(LEVEL, T0).value == 1.5  # the Capper's value was not touched
    assert state.sample(LEVEL, T0).quality is Quality.UNCERTAIN


def test_ndeath_of_an_older_session_is_ignored() -> None:
    state = HostState(GROUP)
    _born(state, bd_seq=4)
    old = Payload(metrics=(Metric(name="bdSeq", datatype=DataType.INT64, value=3),))
    state.apply(_topic(MessageType.NDEATH), old, T0)
    assert state.stats["death_of_other_session"] == 1
    assert state.sample(SPEED, T0).quality is Quality.GOOD
    current = Payload(metrics=(Metric(name="bdSeq", datatype=DataType.INT64, value=4),))
    state.apply(_topic(MessageType.NDEATH), current, T0)
    assert state.sample(SPEED, T0).quality is Quality.UNCERTAIN
    with pytest.raises(DataQualityError, match=r"offline: it published NDEATH \(bdSeq 4\)"):
        state.live(SPEED)


def test_values_before_a_birth_are_ignored_and_counted() -> None:
    state = HostState(GROUP)
    reason = state.apply(*_ddata("Filler", 5, Metric(name="Speed", value=70)), T0)
    assert reason == "DDATA from edge node E before its NBIRTH"
    _born(state)
    reason = state.apply(*_ddata("Mixer", 3, Metric(name="Rpm", value=70)), T0)
    assert reason == "DDATA from device E/Mixer before its DBIRTH"
    assert state.stats["before_birth"] == 2
    assert state.sample(TagAddress(GROUP, EDGE, "Mixer", "Rpm"), T0).quality is Quality.BAD
    assert state.sample(SPEED, T0).value == 60.0


def test_historical_values_go_to_history_only_and_history_is_bounded() -> None:
    state = HostState(GROUP, history_size=3)
    _born(state)
    late = Metric(alias=10, timestamp=MS0 - 60_000, value=55, is_historical=True)
    state.apply(*_ddata("Filler", 3, late), T0)
    assert state.sample(SPEED, T0).value == 60.0
    for seq in (4, 5, 6):
        state.apply(*_ddata("Filler", seq, Metric(alias=10, timestamp=MS0 + seq, value=seq)), T0)
    kept = state.history(str(SPEED), T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert [sample.value for sample in kept] == [4.0, 5.0, 6.0]  # the birth and 55 fell out


def test_null_and_non_numeric_values_are_bad_and_cannot_be_written() -> None:
    state = HostState(GROUP)
    _born(state)
    state.apply(*_ddata("Filler", 3, Metric(alias=10, is_null=True)), T0)
    sample = state.sample(SPEED, T0)
    assert sample.quality is Quality.BAD and math.isnan(sample.value)
    with pytest.raises(DataQualityError, match="not a number"):
        state.live(SPEED)


@pytest.mark.parametrize(
    ("code", "quality"),
    [
        (None, Quality.GOOD),
        (192, Quality.GOOD),
        (500, Quality.UNCERTAIN),
        (0, Quality.BAD),
        (0x40, Quality.UNCERTAIN),
        (0xD8, Quality.GOOD),
    ],
)
def test_the_quality_property_sets_the_samples_quality(code: int | None, quality: Quality) -> None:
    state = HostState(GROUP)
    _born(state)
    properties = {} if code is None else {"Quality": code}
    state.apply(*_ddata("Filler", 3, Metric(alias=10, value=61, properties=properties)), T0)
    sample = state.sample(SPEED, T0)
    assert sample.quality is quality
    assert math.isnan(sample.value) if quality is Quality.BAD else sample.value == 61.0
    assert quality_of_code(code) is quality


def test_rebirth_requests_are_held_back_within_the_interval() -> None:
    state = HostState(GROUP)
    interval = timedelta(seconds=5)
    assert state.rebirth_due(EDGE, T0, interval)
    assert not state.rebirth_due(EDGE, T0 + timedelta(seconds=4), interval)
    assert state.rebirth_due(EDGE, T0 + timedelta(seconds=5), interval)
    _born(state)
    assert state.rebirth_due(EDGE, T0 + timedelta(seconds=6), interval)  # a birth resets it
    assert state.stats["rebirth_requests"] == 3
    assert state.rebirth_alias(EDGE) == 2

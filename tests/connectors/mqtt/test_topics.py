"""Sparkplug B topics and the connector's tag naming scheme."""

from __future__ import annotations

import pytest

from connectors.mqtt.topics import (
    MessageType,
    StateTopic,
    TagAddress,
    Topic,
    parse_tag,
    parse_topic,
    tag_of,
)
from factory_agents.errors import ConfigurationError


def test_topics_parse_and_build_alike() -> None:
    device = parse_topic("spBv1.0/Plant1/DDATA/Line1/Filler")
    assert device == Topic("Plant1", MessageType.DDATA, "Line1", "Filler")
    assert str(device) == "spBv1.0/Plant1/DDATA/Line1/Filler"
    node = parse_topic("spBv1.0/Plant1/NBIRTH/Line1")
    assert node == Topic("Plant1", MessageType.NBIRTH, "Line1")
    assert str(node) == "spBv1.0/Plant1/NBIRTH/Line1"
    state = parse_topic("spBv1.0/STATE/scada-1")
    assert state == StateTopic("scada-1")
    assert str(state) == "spBv1.0/STATE/scada-1"
    for kind in MessageType:
        device_id = "D" if kind.value.startswith("D") else None
        assert parse_topic(str(Topic("G", kind, "E", device_id))) == Topic(
            "G", kind, "E", device_id
        )


@pytest.mark.parametrize(
    ("topic", "why"),
    [
        ("factory/line1/temperature", "must start with spBv1.0/"),
        ("spAv1.0/G/NDATA/E", "must start with spBv1.0/"),
        ("spBv1.0/G/NDATA", "has 3 levels"),
        ("spBv1.0/G/DDATA/E/D/extra", "has 6 levels"),
        ("spBv1.0/G/NSTATUS/E", "'NSTATUS' is not a message type"),
        ("spBv1.0/G/DDATA/E", "needs a device id"),
        ("spBv1.0/G/NDATA/E/D", "takes no device id"),
        ("spBv1.0//NDATA/E", "cannot be a Sparkplug group id"),
    ],
)
def test_a_topic_that_is_not_sparkplug_is_a_clear_error(topic: str, why: str) -> None:
    with pytest.raises(ConfigurationError, match=why):
        parse_topic(topic)


def test_tags_name_device_and_node_metrics_with_slashes_in_names() -> None:
    tag = "spBv1.0/Plant1/Line1/Filler/Inputs/Fill Weight"
    assert parse_tag(tag) == TagAddress("Plant1", "Line1", "Filler", "Inputs/Fill Weight")
    assert str(parse_tag(tag)) == tag
    node_tag = "spBv1.0/Plant1/Line1//Node Control/Rebirth"
    assert parse_tag(node_tag) == TagAddress("Plant1", "Line1", None, "Node Control/Rebirth")
    assert tag_of("Plant1", "Line1", None, "Node Control/Rebirth") == node_tag


@pytest.mark.parametrize(
    ("tag", "why"),
    [
        ("ns=2;s=Line1.Filler.Speed", "is not a Sparkplug tag"),
        ("spBv1.0/Plant1/Line1/Filler", "is not a Sparkplug tag"),
        ("spBv1.0/Plant1/Line1/Filler/", "needs a metric name"),
        ("spBv1.0/Plant+/Line1/Filler/Speed", "cannot be a Sparkplug group id"),
        ("spBv1.0/Plant1/#/Filler/Speed", "cannot be a Sparkplug edge node id"),
    ],
)
def test_a_malformed_tag_is_a_configuration_error(tag: str, why: str) -> None:
    with pytest.raises(ConfigurationError, match=why):
        parse_tag(tag)

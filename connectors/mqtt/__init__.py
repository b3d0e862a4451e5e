"""MQTT Sparkplug B: a host application connector with guarded writes through DCMD and NCMD."""

from connectors.base import WriteResult
from connectors.mqtt.connector import SparkplugConnector
from connectors.mqtt.topics import TagAddress, parse_tag, tag_of

__all__ = ["SparkplugConnector", "TagAddress", "WriteResult", "parse_tag", "tag_of"]

"""OPC UA: the asyncua-based connector with batched reads, history and guarded writes."""

from connectors.base import WriteResult
from connectors.opcua.connector import OpcUaConnector

__all__ = ["OpcUaConnector", "WriteResult"]

"""For integrators: fakes of the ports, and a conformance suite to run against a connector.

The fakes (FakeTagSource, FakeTagWriter, FakeMes) need nothing but this package. The suite
(connectors.testing.suite) and its pytest plugin (connectors.testing.plugin) need pytest and
pytest-asyncio; the peer description (ConformancePeer and friends) is what an integrator's
`conformance_peer` fixture returns.
"""

from connectors.testing.fakes import FakeMes, FakeTagSource, FakeTagWriter
from connectors.testing.peer import (
    ConformancePeer,
    MesReadData,
    MesWriteData,
    TagData,
    TagWriteData,
)

__all__ = [
    "ConformancePeer",
    "FakeMes",
    "FakeTagSource",
    "FakeTagWriter",
    "MesReadData",
    "MesWriteData",
    "TagData",
    "TagWriteData",
]

"""Browse, the server's operation limits, and status and time rules, on a plain asyncua server."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from asyncua import ua
from asyncua.client.ua_client import UaClient
from asyncua.ua.status_codes import StatusCodes

from connectors.opcua import OpcUaConnector
from connectors.opcua.browse import access_words
from connectors.opcua.samples import FUTURE_TOLERANCE, fast_sample, to_sample
from connectors.simulator import PlantSimulator
from factory_agents.errors import ConfigurationError
from factory_agents.plant import Quality
from tests.connectors import standard_server as boiler
from tests.connectors.standard_server import StandardServer


@pytest.fixture(scope="module")
async def any_server(standard: StandardServer) -> AsyncIterator[OpcUaConnector]:
    """The connector on the standard (non-simulator) server, None security allowed locally."""
    async with OpcUaConnector(standard.endpoint) as connector:
        yield connector


async def test_browse_reports_type_unit_range_and_access(shared_plant: PlantSimulator) -> None:
    async with OpcUaConnector(shared_plant.endpoint) as connector:
        nodes, truncated = await connector.browse("i=85", depth=4)
    assert truncated is False
    by_id = {node.node_id: node for node in nodes}
    setpoint = by_id["ns=2;s=Line1.Filler.FillWeightSetpoint"]
    assert (setpoint.data_type, setpoint.unit, setpoint.eu_range) == ("Double", "g", (490, 510))
    assert setpoint.access == ("read", "write", "history read")
    assert (setpoint.browse_name, setpoint.node_class, setpoint.depth) == (
        "2:FillWeightSetpoint",
        "Variable",
        4,
    )
    assert setpoint.parent == "ns=2;s=Line1.Filler"
    counter = by_id["ns=2;s=Line1.GoodCount"]
    assert (counter.data_type, counter.unit, counter.eu_range) == ("Int64", None, None)
    assert by_id["ns=2;s=Line1.Filler.State"].data_type == "String"
    # Properties are reported on their variable, not listed as nodes of their own.
    assert not any(node.browse_name == "0:EngineeringUnits" for node in nodes)
    # The standard Server object is listed, not descended into.
    assert "i=2253" in by_id
    assert not any(node.parent == "i=2253" for node in nodes)


async def test_browse_depth_and_limits(any_server: OpcUaConnector) -> None:
    top, _ = await any_server.browse(depth=1)
    assert {node.depth for node in top} == {1}
    assert boiler.PLAIN_OBJECT in {node.node_id for node in top}
    deeper, _ = await any_server.browse(boiler.PLAIN_OBJECT, depth=2)
    by_id = {node.node_id: node for node in deeper}
    assert by_id[boiler.PRESSURE].data_type == "Float"
    assert by_id[boiler.RUNNING].data_type == "Boolean"
    assert by_id[boiler.MODE].data_type == "LocalizedText"
    assert by_id[boiler.TEMPERATURE].eu_range == (0.0, 120.0)
    assert by_id[boiler.SETPOINT].unit == "°C"
    assert by_id[boiler.SETPOINT].access == ("read", "write")
    assert by_id[boiler.TEMPERATURE].access == ("read",)
    assert by_id[boiler.BAD].depth == 2  # Boiler/Quality/Bad
    few, truncated = await any_server.browse(boiler.PLAIN_OBJECT, depth=2, max_nodes=5)
    assert truncated is True and len(few) == 5
    with pytest.raises(ConfigurationError, match="depth"):
        await any_server.browse(depth=0)


def test_access_levels_read_as_words() -> None:
    assert access_words(0b0000_0101) == ("read", "history read")
    assert access_words(None) == ()


async def test_reads_and_browses_are_chunked_to_the_server_limits(
    any_server: OpcUaConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert any_server.max_nodes("read") == boiler.MAX_NODES_PER_READ
    assert any_server.max_nodes("browse") == boiler.MAX_NODES_PER_BROWSE
    reads: list[int] = []
    browses: list[int] = []
    real_read, real_browse = UaClient.read, UaClient.browse

    async def counted_read(self: UaClient, params: ua.ReadParameters) -> list[ua.DataValue]:
        reads.append(len(params.NodesToRead))
        return await real_read(self, params)

    async def counted_browse(self: UaClient, params: ua.BrowseParameters) -> list[ua.BrowseResult]:
        browses.append(len(params.NodesToBrowse))
        return await real_browse(self, params)

    monkeypatch.setattr(UaClient, "read", counted_read)
    monkeypatch.setattr(UaClient, "browse", counted_browse)
    samples = await any_server.read(boiler.NUMBERED)
    assert reads == [7, 7, 6]
    assert [s.tag for s in samples] == boiler.NUMBERED
    assert all(s.quality is Quality.GOOD and s.value == 1.0 for s in samples)
    nodes, _ = await any_server.browse(boiler.PLAIN_OBJECT, depth=3)
    assert max(browses) <= boiler.MAX_NODES_PER_BROWSE
    assert len(nodes) > boiler.MAX_NODES_PER_BROWSE  # everything was still found


async def test_bad_dropped_uncertain_flagged_future_rejected(any_server: OpcUaConnector) -> None:
    bad, uncertain, future, old = await any_server.read(
        [boiler.BAD, boiler.UNCERTAIN, boiler.FUTURE, boiler.OLD]
    )
    assert bad.quality is Quality.BAD and math.isnan(bad.value)
    assert uncertain.quality is Quality.UNCERTAIN and uncertain.value == 42.0
    assert future.quality is Quality.BAD and math.isnan(future.value)
    assert future.source_time > datetime.now(UTC)  # the time is kept, to see what was wrong
    assert old.quality is Quality.GOOD and old.value == 42.0  # no staleness rule asked for


async def test_stale_values_are_flagged_from_their_source_time(standard: StandardServer) -> None:
    async with OpcUaConnector(standard.endpoint, stale_after=60.0) as connector:
        old, fresh_bad, future = await connector.read([boiler.OLD, boiler.BAD, boiler.FUTURE])
        assert old.quality is Quality.UNCERTAIN and old.value == 42.0
        assert fresh_bad.quality is Quality.BAD
        assert future.quality is Quality.BAD
    with pytest.raises(ConfigurationError, match="stale_after"):
        OpcUaConnector(standard.endpoint, stale_after=0)


async def test_values_of_any_type_for_people(any_server: OpcUaConnector) -> None:
    mode, running, burners, bad = await any_server.read_values(
        [boiler.MODE, boiler.RUNNING, boiler.BURNERS, boiler.BAD]
    )
    assert (mode.text, mode.data_type, mode.quality) == ("auto", "LocalizedText", Quality.GOOD)
    assert (running.value, running.data_type) == (True, "Boolean")
    assert (burners.value, burners.data_type) == (3, "UInt32")
    assert (bad.status, bad.quality) == ("BadSensorFailure", Quality.BAD)


def _value(
    raw: object,
    variant_type: ua.VariantType,
    status: int = 0,
    stamp: datetime | None = None,
) -> ua.DataValue:
    return ua.DataValue(
        ua.Variant(raw, variant_type),
        StatusCode=ua.StatusCode(ua.UInt32(status)),
        SourceTimestamp=stamp,  # type: ignore[arg-type]
        ServerTimestamp=stamp,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("stale_after", [None, 60.0])
def test_the_fast_path_gives_the_same_samples_as_the_complete_one(
    stale_after: float | None,
) -> None:
    now = datetime.now(UTC)
    connector = OpcUaConnector("opc.tcp://127.0.0.1:4840/", stale_after=stale_after)
    double, integer = ua.VariantType.Double, ua.VariantType.Int64
    cases = [
        _value(1.5, double, stamp=now),
        _value(7, integer, stamp=now),
        _value(7, ua.VariantType.Byte, stamp=now),
        _value(True, ua.VariantType.Boolean, stamp=now),
        _value(1.5, double, StatusCodes.UncertainLastUsableValue, now),
        _value(1.5, double, StatusCodes.BadSensorFailure, now),
        _value(math.nan, double, stamp=now),
        _value(math.inf, double, stamp=now),
        _value(1.5, double),  # no timestamps at all
        _value(1.5, double, stamp=now.replace(tzinfo=None)),
        _value(1.5, double, stamp=now + timedelta(hours=1)),
        _value(1.5, double, stamp=now - timedelta(hours=1)),
        _value("on", ua.VariantType.String, stamp=now),
        _value([1.0, 2.0], double, stamp=now),
        ua.DataValue(None, StatusCode=None, SourceTimestamp=now),  # type: ignore[arg-type]
    ]
    future = now + FUTURE_TOLERANCE
    stale = now - timedelta(seconds=stale_after) if stale_after is not None else None
    for value in cases:
        complete = connector.judged(to_sample("t", value, now), now)
        fast = fast_sample("t", value, future, stale)
        assert fast is None or fast == complete, value
        assert (fast or complete) == complete
    assert fast_sample("t", cases[0], future, stale) is not None  # the common case is fast

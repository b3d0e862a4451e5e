"""OPC UA connector: batched reads, raw history and guarded setpoint writes (asyncua client)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import urlparse

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from connectors.base import WriteResult
from connectors.opcua.data_types import as_written, variant_type_of
from connectors.opcua.samples import (
    numeric_value,
    parse_node_id,
    quality_of,
    status_name,
    to_sample,
)
from factory_agents.agent import SetpointChange
from factory_agents.errors import (
    ConfigurationError,
    ConnectorError,
    DataQualityError,
    GuardrailViolation,
    WriteRejected,
    WriteVerificationError,
)
from factory_agents.plant import Quality, Sample
from factory_agents.policy import Policy

MAX_NODES_PER_READ = 500
SAME_VALUE_TOLERANCE = 1e-6
_SESSION_TIMEOUT_MS = 600_000


class OpcUaConnector:
    """An OPC UA server as a TagSource and TagWriter (async context manager).

    Example::

        async with OpcUaConnector("opc.tcp://127.0.0.1:4840/factory-agents/") as plant:
            samples = await plant.read(["ns=2;s=Line1.GoodCount"])
    """

    def __init__(self, endpoint: str, *, policy: Policy = Policy(), timeout: float = 5.0) -> None:
        parsed = urlparse(endpoint)
        if parsed.scheme != "opc.tcp" or not parsed.hostname:
            raise ConfigurationError(
                f"{endpoint!r} is not an OPC UA endpoint; write it as opc.tcp://<host>:<port>/<path>"
            )
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be positive seconds; got {timeout}")
        self.endpoint = endpoint
        self.policy = policy
        self.timeout = timeout
        self._client: Client | None = None

    async def __aenter__(self) -> OpcUaConnector:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open a session (no security, anonymous); reconnects by itself after a lost link."""
        if self._client is not None:
            return
        client = Client(
            self.endpoint,
            timeout=self.timeout,
            auto_reconnect=True,
            reconnect_request_timeout=self.timeout,
        )
        client.name = client.description = "factory-agents"
        client.session_timeout = _SESSION_TIMEOUT_MS
        try:
            await client.connect()
        except (OSError, TimeoutError, UaError) as err:
            raise ConnectorError(
                f"could not connect to the OPC UA server at {self.endpoint}: {err!r}. Check that"
                " the server is running, that host, port and path are right, and that no"
                " firewall blocks the port"
            ) from err
        self._client = client

    async def close(self) -> None:
        """Close the session and the connection (safe to call twice)."""
        client, self._client = self._client, None
        if client is not None:
            await client.disconnect()

    async def read(self, node_ids: Sequence[str]) -> list[Sample]:
        """Current values of `node_ids` in one Read call per 500 nodes, in the same order."""
        ids = [parse_node_id(node_id) for node_id in node_ids]
        samples: list[Sample] = []
        for first in range(0, len(ids), MAX_NODES_PER_READ):
            chunk = ids[first : first + MAX_NODES_PER_READ]
            values = await self._read_values(chunk, f"read {len(chunk)} nodes")
            received_at = datetime.now(UTC)
            tags = node_ids[first : first + MAX_NODES_PER_READ]
            samples += [
                to_sample(tag, value, received_at) for tag, value in zip(tags, values, strict=True)
            ]
        return samples

    async def history(self, node_id: str, start: datetime, end: datetime) -> list[Sample]:
        """Raw historized values of one node between start and end, sorted by source time."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("history start and end must be timezone-aware (UTC)")
        if start > end:
            raise ValueError(f"history start {start.isoformat()} is after end {end.isoformat()}")
        node = self._require_client().get_node(parse_node_id(node_id))
        with self._translated(f"read the history of {node_id}", "is it historized?"):
            values = await node.read_raw_history(start, end, numvalues=0, return_bounds=False)
        received_at = datetime.now(UTC)
        samples = [to_sample(node_id, value, received_at) for value in values]
        return sorted(samples, key=lambda sample: sample.source_time)

    async def write_setpoint(self, change: SetpointChange) -> WriteResult:
        """Guarded, idempotent write of one allow-listed setpoint, verified by reading back."""
        limit = self.policy.limit_for(change.node_id)
        node = parse_node_id(change.node_id)
        live_value, data_type = await self._read_attributes(
            node, (AttributeIds.Value, AttributeIds.DataType), f"read {change.node_id}"
        )
        variant_type = variant_type_of(change.node_id, live_value, data_type)
        live = self._live_number(change.node_id, live_value)
        target = as_written(change.node_id, change.to_value, variant_type)
        if _same(live, target):
            return _write_result(change.node_id, live, target, live, already_applied=True)
        if not _same(live, change.from_value):
            raise GuardrailViolation(
                f"{change.node_id}: the proposal assumed {change.from_value:g} {change.unit} but"
                f" the live value is {live:g} {change.unit}; the premise changed and nothing was"
                " written. Let the agent propose again from the live value"
            )
        limit.check(live, float(target))
        await self._write_value(node, change.node_id, ua.Variant(target, variant_type))
        (read_back_value,) = await self._read_attributes(
            node, (AttributeIds.Value,), f"read back {change.node_id}"
        )
        read_back = numeric_value(read_back_value)
        if read_back is None or quality_of(read_back_value.StatusCode) is not Quality.GOOD:
            raise WriteVerificationError(
                f"{change.node_id}: wrote {target:g} but reading back gave"
                f" {status_name(read_back_value.StatusCode)} without a usable number; check the"
                " device before trying again"
            )
        if not _same(read_back, target):
            raise WriteVerificationError(
                f"{change.node_id}: wrote {target:g} {change.unit} but read back {read_back:g}"
                f" {change.unit}; the device did not take the value or changed it. Check the"
                " device before trying again"
            )
        return _write_result(change.node_id, live, target, read_back, already_applied=False)

    def _live_number(self, node_id: str, value: ua.DataValue) -> float:
        quality = quality_of(value.StatusCode)
        number = numeric_value(value)
        if quality is not Quality.GOOD or number is None:
            raise DataQualityError(
                f"{node_id}: the live value is {status_name(value.StatusCode)}"
                f" ({quality.value}), so the proposal's premise cannot be checked; nothing was"
                " written. Check the device and the node id"
            )
        return number

    async def _read_values(self, nodes: list[ua.NodeId], doing: str) -> list[ua.DataValue]:
        params = ua.ReadParameters(
            TimestampsToReturn=ua.TimestampsToReturn.Both,
            NodesToRead=[_read_value_id(node, AttributeIds.Value) for node in nodes],
        )
        return await self._read(params, len(nodes), doing)

    async def _read_attributes(
        self, node: ua.NodeId, attributes: tuple[AttributeIds, ...], doing: str
    ) -> list[ua.DataValue]:
        params = ua.ReadParameters(
            TimestampsToReturn=ua.TimestampsToReturn.Both,
            NodesToRead=[_read_value_id(node, attribute) for attribute in attributes],
        )
        return await self._read(params, len(attributes), doing)

    async def _read(
        self, params: ua.ReadParameters, expected: int, doing: str
    ) -> list[ua.DataValue]:
        client = self._require_client()
        with self._translated(doing):
            values = await client.uaclient.read(params)
        if len(values) != expected:
            raise ConnectorError(
                f"{self.endpoint} answered a read of {expected} values with {len(values)};"
                " the server is not following the protocol"
            )
        return values

    async def _write_value(self, node: ua.NodeId, node_id: str, variant: ua.Variant) -> None:
        # Only the value: no status or timestamps, which many PLCs refuse to take from clients.
        write = ua.WriteValue(
            NodeId=node,
            AttributeId=ua.UInt32(AttributeIds.Value),
            Value=ua.DataValue(variant, StatusCode=None),
        )
        client = self._require_client()
        with self._translated(f"write {node_id}"):
            (status,) = await client.uaclient.write(ua.WriteParameters(NodesToWrite=[write]))
        if not status.is_good():
            raise WriteRejected(
                f"{self.endpoint} refused to write {variant.Value!r} to {node_id}:"
                f" {status_name(status)}. This is final and is not retried; check the node's"
                " access level, data type and the device state"
            )

    def _require_client(self) -> Client:
        if self._client is None:
            raise ConnectorError(
                f"the connector for {self.endpoint} is not connected; use"
                " `async with OpcUaConnector(...)` or call connect() first"
            )
        return self._client

    @contextmanager
    def _translated(self, doing: str, hint: str = "") -> Iterator[None]:
        """Turn asyncua and network errors into ConnectorError naming the endpoint."""
        try:
            yield
        except UaStatusCodeError as err:
            raise ConnectorError(
                f"{self.endpoint} refused to {doing}: {err}. {hint}".strip()
            ) from err
        except (OSError, TimeoutError, UaError) as err:
            raise ConnectorError(
                f"could not {doing} on {self.endpoint}: {err!r}. Check that the server is"
                " running and reachable; the connector reconnects by itself once it is"
            ) from err


def _write_result(
    node_id: str, before: float, written: float, read_back: float, *, already_applied: bool
) -> WriteResult:
    return WriteResult(
        node_id=node_id,
        before=before,
        written=float(written),
        read_back=read_back,
        already_applied=already_applied,
        at=datetime.now(UTC),
    )


def _read_value_id(node: ua.NodeId, attribute: AttributeIds) -> ua.ReadValueId:
    return ua.ReadValueId(NodeId=node, AttributeId=ua.UInt32(attribute))


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0.0, abs_tol=SAME_VALUE_TOLERANCE)

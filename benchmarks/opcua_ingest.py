"""OPC UA ingest: the connector's batched reads against a bare asyncua client, and subscriptions.

Run with `python benchmarks/opcua_ingest.py`. A plain asyncua server with 10,000 Double
variables runs in its own process on a free loopback port (so that client and server do not
share one interpreter). In the same run, on the same server:

- batched read: `OpcUaConnector.read` of all 10,000 tags (chunked to the server's limits,
  samples with quality and source time) against a bare asyncua client sending the very same
  Read requests (same chunks, issued the same way) and keeping only the values. Single reads
  of both run back to back, who goes first alternating, so both meet the same load on a
  shared machine; the ratio is the median of the paired ratios (bare time / connector time).
  Target: ratio >= 0.9. Client CPU per read is reported too. For information, a bare client
  reading everything in one Read request.
- subscription: 5,000 monitored items whose values the server changes as fast as it can;
  notifications per second delivered by `OpcUaConnector.subscribe` (TagUpdates) and, for
  information, by a bare asyncua subscription in iterator mode, each with the server's
  changes per second meanwhile (the share delivered shows whether the client kept up) and
  the client's CPU time per notification (its headroom).

Prints a table, writes benchmarks/results/opcua.json, exits non-zero when the ratio is under
the target.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import platform
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy
from asyncua.server.server import Server
from asyncua.ua.attribute_ids import AttributeIds

from connectors.opcua import OpcUaConnector
from connectors.opcua.subscription import QueuePolicy

VARIABLES = 10_000
MONITORED = 5_000
ITERATIONS = 41
SUBSCRIPTION_SECONDS = 6.0
WARM_UP_SECONDS = 1.0
TARGET_RATIO = 0.9
YIELD_EVERY = 100
NAMESPACE = "urn:factory-agents:bench"
RESULTS = Path(__file__).resolve().parent / "results" / "opcua.json"


def free_endpoint() -> str:
    """An opc.tcp endpoint on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"opc.tcp://127.0.0.1:{port}/bench/"


def tag(index: int) -> str:
    """The NodeId string of benchmark variable `index`."""
    return f"ns=2;s=Bench.V{index:05d}"


def serve(endpoint: str, ready: Event, changing: Event, changes: Synchronized[int]) -> None:
    """Run the benchmark server (in its own process) until terminated."""

    async def main() -> None:
        server = Server()
        await server.init()
        server.set_endpoint(endpoint)
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        server.set_identity_tokens([ua.AnonymousIdentityToken])
        server.disable_clock(True)
        index = await server.register_namespace(NAMESPACE)
        folder = await server.nodes.objects.add_object(
            ua.NodeId.from_string(f"ns={index};s=Bench"), ua.QualifiedName("Bench", index)
        )
        nodes = [
            await folder.add_variable(
                ua.NodeId.from_string(tag(i)),
                ua.QualifiedName(f"V{i:05d}", index),
                ua.Variant(float(i), ua.VariantType.Double),
            )
            for i in range(VARIABLES)
        ]
        async with server:
            ready.set()
            cycle = 0
            while True:
                if not changing.is_set():
                    await asyncio.sleep(0.05)
                    continue
                cycle += 1
                stamp = datetime.now(UTC)
                for position, node in enumerate(nodes[:MONITORED], start=1):
                    value = ua.DataValue(
                        ua.Variant(float(cycle), ua.VariantType.Double),
                        SourceTimestamp=stamp,  # type: ignore[arg-type]
                        ServerTimestamp=stamp,  # type: ignore[arg-type]
                    )
                    await server.write_attribute_value(node.nodeid, value)
                    if position % YIELD_EVERY == 0:
                        changes.value += YIELD_EVERY
                        await asyncio.sleep(0)  # let the server answer its clients meanwhile

    asyncio.run(main())


async def timed(work: Callable[[], Awaitable[int]]) -> tuple[float, float]:
    """Wall and client CPU seconds of one call of `work`, which must read every variable."""
    wall, cpu = time.perf_counter(), time.process_time()
    got = await work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if got != VARIABLES:
        raise RuntimeError(f"a read returned {got} good values, not {VARIABLES}")
    return wall, cpu


async def bench_reads(endpoint: str) -> dict[str, Any]:
    """Median values/s of the connector and of a bare client doing the same Read requests."""
    tags = [tag(i) for i in range(VARIABLES)]
    async with OpcUaConnector(endpoint, timeout=30.0) as connector:
        bare = Client(endpoint, timeout=30.0)
        await bare.connect()
        try:
            size = connector.max_nodes("read")
            nodes = [ua.NodeId.from_string(t) for t in tags]
            chunks = [nodes[first : first + size] for first in range(0, len(nodes), size)]

            async def read_chunk(chunk: list[ua.NodeId]) -> list[Any]:
                params = ua.ReadParameters(
                    TimestampsToReturn=ua.TimestampsToReturn.Both,
                    NodesToRead=[
                        ua.ReadValueId(NodeId=node, AttributeId=ua.UInt32(AttributeIds.Value))
                        for node in chunk
                    ],
                )
                values = await bare.uaclient.read(params)
                return [value.Value.Value if value.Value else None for value in values]

            async def bare_same_requests() -> int:
                answers = await asyncio.gather(*(read_chunk(chunk) for chunk in chunks))
                return sum(len(answer) for answer in answers)

            async def bare_one_request() -> int:
                return len(await read_chunk(nodes))

            async def with_connector() -> int:
                samples = await connector.read(tags)
                return sum(1 for sample in samples if sample.quality.value == "good")

            walls: dict[str, list[float]] = {"connector": [], "bare": [], "bare_one": []}
            cpus: dict[str, list[float]] = {"connector": [], "bare": [], "bare_one": []}
            works = {
                "bare": bare_same_requests,
                "connector": with_connector,
                "bare_one": bare_one_request,
            }
            for work in works.values():  # warm up: connections, caches
                await work()
            for number in range(ITERATIONS):
                # Back to back, who goes first alternating: both meet the same machine load.
                order = ["bare", "connector", "bare_one"]
                if number % 2:
                    order = ["connector", "bare", "bare_one"]
                for name in order:
                    wall, cpu = await timed(works[name])
                    walls[name].append(wall)
                    cpus[name].append(cpu)
        finally:
            await bare.disconnect()
    paired = [b / c for b, c in zip(walls["bare"], walls["connector"], strict=True)]
    return {
        "variables": VARIABLES,
        "chunk_size": size,
        "chunks": len(chunks),
        "iterations": ITERATIONS,
        "values_per_second": {
            name: round(VARIABLES / statistics.median(times)) for name, times in walls.items()
        },
        "client_cpu_ms_per_read": {
            name: round(1000 * statistics.median(times), 1) for name, times in cpus.items()
        },
        "ratio": round(statistics.median(paired), 3),
        "ratio_quartiles": [round(q, 3) for q in statistics.quantiles(paired, n=4)],
        "ratio_vs_one_request": round(
            statistics.median(walls["bare_one"]) / statistics.median(walls["connector"]), 3
        ),
    }


async def bench_subscriptions(
    endpoint: str, changing: Event, changes: Synchronized[int]
) -> dict[str, Any]:
    """Notifications/s with MONITORED items: through the connector, and a bare subscription."""
    tags = [tag(i) for i in range(MONITORED)]
    queue = QueuePolicy(sampling_interval=0.0, server_queue_size=1, client_buffer=100_000)
    results: dict[str, Any] = {"monitored_items": MONITORED, "queue": queue.model_dump()}
    try:
        async with OpcUaConnector(endpoint, timeout=30.0) as connector:
            subscription = await connector.subscribe(tags, queue=queue, publishing_interval=0.05)
            changing.set()
            async with subscription:
                count, produced, cpu = await _count(subscription.next, changes)
                results["connector"] = _delivery(count, produced, cpu)
                results["connector"]["dropped"] = subscription.dropped
            changing.clear()
        bare = Client(endpoint, timeout=30.0)
        await bare.connect()
        try:
            raw = await bare.create_subscription(
                50.0, None, queue_maxsize=100_000, overflow=OverflowPolicy.DROP_OLDEST
            )
            nodes = [bare.get_node(t) for t in tags]
            await raw.subscribe_data_change(nodes, queuesize=1, sampling_interval=ua.Double(0.0))
            changing.set()

            async def next_raw() -> object:
                event = await raw.next_event()
                return event if isinstance(event, DataChangeEvent) else None

            count, produced, cpu = await _count(next_raw, changes)
            results["bare"] = _delivery(count, produced, cpu)
            await raw.delete()
        finally:
            await bare.disconnect()
    finally:
        changing.clear()
    return results


def _delivery(count: int, produced: int, cpu_per_item: float) -> dict[str, Any]:
    """Notifications/s delivered, server changes/s, the share delivered, CPU per item."""
    return {
        "notifications_per_second": round(count / SUBSCRIPTION_SECONDS),
        "server_changes_per_second": round(produced / SUBSCRIPTION_SECONDS),
        "delivered_share": round(count / produced, 3) if produced else 0.0,
        "client_cpu_us_per_notification": round(cpu_per_item * 1e6, 1),
    }


async def _count(
    next_item: Callable[[], Awaitable[object]], changes: Synchronized[int]
) -> tuple[int, int, float]:
    """Items consumed in SUBSCRIPTION_SECONDS, the server's value changes meanwhile, and the
    client's CPU seconds per item.

    The consumer runs from the start; the first WARM_UP_SECONDS (initial values, first cycles)
    are not counted, so no backlog is counted as throughput.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    count, counted_from, changes_from, cpu_from = 0, None, 0, 0.0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(WARM_UP_SECONDS + SUBSCRIPTION_SECONDS):
            while True:
                if await next_item() is None:
                    continue
                count += 1
                if counted_from is None and loop.time() - started >= WARM_UP_SECONDS:
                    counted_from, changes_from = count, changes.value
                    cpu_from = time.process_time()
    if counted_from is None:
        return 0, 0, 0.0
    counted = count - counted_from
    cpu = (time.process_time() - cpu_from) / counted if counted else 0.0
    return counted, changes.value - changes_from, cpu


def main() -> int:
    """Start the server process, run both benchmarks, print and save the figures."""
    endpoint = free_endpoint()
    context = multiprocessing.get_context("spawn")
    ready, changing = context.Event(), context.Event()
    changes = context.Value("q", 0)
    server = context.Process(target=serve, args=(endpoint, ready, changing, changes), daemon=True)
    server.start()
    try:
        if not ready.wait(120):
            print("FAIL: the benchmark server did not start within 120 s")
            return 1
        print(f"OPC UA ingest on {endpoint} (asyncua server in its own process)")
        started = time.perf_counter()
        reads = asyncio.run(bench_reads(endpoint))
        subscriptions = asyncio.run(bench_subscriptions(endpoint, changing, changes))
    finally:
        server.terminate()
        server.join(10)
    passed = reads["ratio"] >= TARGET_RATIO
    per_second = reads["values_per_second"]
    print(f"\n{'batched read of ' + str(VARIABLES) + ' values':<52}{'values/s':>12}")
    print(
        f"{'  OpcUaConnector.read (samples with quality, time)':<52}{per_second['connector']:>12,}"
    )
    print(f"{'  bare asyncua, same Read requests':<52}{per_second['bare']:>12,}")
    print(f"{'  bare asyncua, one Read of everything (info)':<52}{per_second['bare_one']:>12,}")
    cpu = reads["client_cpu_ms_per_read"]
    print(f"  client CPU per read: connector {cpu['connector']} ms, bare {cpu['bare']} ms")
    low, _median, high = reads["ratio_quartiles"]
    print(
        f"  ratio connector / bare: {reads['ratio']:.3f} (quartiles {low:.3f} .. {high:.3f};"
        f" target >= {TARGET_RATIO})  {'PASS' if passed else 'FAIL'}"
    )
    print(f"\n{'subscription, ' + str(MONITORED) + ' monitored items':<40}", end="")
    print(f"{'notif./s':>10}{'server changes/s':>18}{'delivered':>11}{'CPU/notif.':>12}")
    for name, label in (("connector", "OpcUaConnector.subscribe"), ("bare", "bare asyncua (info)")):
        row = subscriptions[name]
        print(
            f"  {label:<38}{row['notifications_per_second']:>10,}"
            f"{row['server_changes_per_second']:>18,}{row['delivered_share']:>11.1%}"
            f"{row['client_cpu_us_per_notification']:>10.1f} µs"
        )
    report = {
        "at": datetime.now(UTC).isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": multiprocessing.cpu_count(),
        "batched_read": reads,
        "subscription": subscriptions,
        "target_ratio": TARGET_RATIO,
        "passed": passed,
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'PASS' if passed else 'FAIL'}; figures in {RESULTS}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

"""Prometheus metrics of a worker: the Temporal SDK's own, and the platform's counters.

Two endpoints, because there are two exporters. The Temporal SDK records its metrics (workflow
and activity task counts, latencies, failures, pollers, sticky cache) in its Rust core, whose
exporter serves them on FACTORY_METRICS_PORT and cannot serve anything recorded in Python. The
platform's counters are prometheus_client's and are served on FACTORY_PLATFORM_METRICS_PORT
(default: FACTORY_METRICS_PORT + 1). The core's meter could carry them instead, but it only
counts in integers and would turn the realized savings (Decimal money) into approximations.
Every SDK metric is labelled `factory_worker` with the worker's name; the platform's endpoint
has `factory_worker_info` with it.

The platform's counters (per worker process; Prometheus sums them over workers):

    factory_proposals_total{agent, outcome=admitted|withheld, reason}
    factory_decisions_total{decision=approve|reject, method=signed|automatic}
    factory_executions_total{kind, outcome=executed|already_applied|refused|held|failed}
    factory_realized_saving{agent, currency}    sum of measured savings (may fall: losses count)
    factory_savings_measured_total{agent}
    factory_verification_failures_total{stage=read_back|read_counters|measure, error}
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from factory_agents.errors import ConfigurationError
from factory_agents.settings import Settings


class PlatformMetrics:
    """The platform's own counters, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.worker_info = Gauge(
            "factory_worker_info", "This worker process", ["worker", "task_queue"], registry=r
        )
        self.proposals = Counter(
            "factory_proposals",
            "Proposals agents made: admitted to the approval queue, or withheld and why",
            ["agent", "outcome", "reason"],
            registry=r,
        )
        self.decisions = Counter(
            "factory_decisions",
            "Signatures recorded on proposals (people's, and approvals under autonomy)",
            ["decision", "method"],
            registry=r,
        )
        self.executions = Counter(
            "factory_executions",
            "Attempts to execute an approved action, by action kind and outcome",
            ["kind", "outcome"],
            registry=r,
        )
        self.realized_saving = Gauge(
            "factory_realized_saving",
            "Sum of the realized savings this worker measured (money; a loss lowers it)",
            ["agent", "currency"],
            registry=r,
        )
        self.savings_measured = Counter(
            "factory_savings_measured",
            "Realized savings measured after a verification window",
            ["agent"],
            registry=r,
        )
        self.verification_failures = Counter(
            "factory_verification_failures",
            "Read-backs that did not match, and verification readings or measurements that failed",
            ["stage", "error"],
            registry=r,
        )

    def admitted(self, agent: str) -> None:
        """A proposal entered the approval queue."""
        self.proposals.labels(agent=agent, outcome="admitted", reason="").inc()

    def withheld(self, agent: str, reason: str) -> None:
        """A proposal was withheld (kill switch, guardrail, rate limit, open proposal, ...)."""
        self.proposals.labels(agent=agent, outcome="withheld", reason=reason).inc()

    def decided(self, decision: str, method: str) -> None:
        """A signature was recorded."""
        self.decisions.labels(decision=decision, method=method).inc()

    def executed(self, kind: str, outcome: str) -> None:
        """An execution attempt ended: executed, already_applied, refused, held or failed."""
        self.executions.labels(kind=kind, outcome=outcome).inc()

    def realized(self, agent: str, amount: Decimal, currency: str) -> None:
        """A realized saving was measured and recorded."""
        self.realized_saving.labels(agent=agent, currency=currency).inc(float(amount))
        self.savings_measured.labels(agent=agent).inc()

    def verification_failed(self, stage: str, error: str) -> None:
        """A read-back or a verification step failed with `error` (a type name; may retry)."""
        self.verification_failures.labels(stage=stage, error=error).inc()


PLATFORM = PlatformMetrics()
"""The counters of this process; activities count here, the worker serves them."""


def sdk_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime exporting the SDK's metrics on FACTORY_METRICS_PORT; None if unset."""
    if settings.metrics_port is None:
        return None
    address = f"{settings.metrics_address}:{settings.metrics_port}"
    telemetry = TelemetryConfig(
        metrics=PrometheusConfig(bind_address=address),
        global_tags={"factory_worker": settings.worker_identity},
    )
    try:
        return Runtime(telemetry=telemetry)
    except ValueError as err:
        raise ConfigurationError(
            f"cannot serve the Temporal SDK metrics on {address} ({err}); set"
            " FACTORY_METRICS_PORT (or --metrics-port) to a free port, or unset it"
        ) from err


@dataclass
class MetricsEndpoint:
    """A running HTTP endpoint of the platform's metrics."""

    server: WSGIServer
    port: int

    def close(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()


def serve_platform_metrics(
    settings: Settings, metrics: PlatformMetrics = PLATFORM
) -> MetricsEndpoint | None:
    """Serve the platform's counters on their port (see module docstring); None if unset."""
    port = settings.platform_metrics_target
    if port is None:
        return None
    try:
        server, _thread = start_http_server(
            port, addr=settings.metrics_address, registry=metrics.registry
        )
    except OSError as err:
        raise ConfigurationError(
            f"cannot serve the platform's metrics on {settings.metrics_address}:{port}"
            f" ({err.strerror}); set FACTORY_PLATFORM_METRICS_PORT to a free port"
        ) from err
    metrics.worker_info.labels(worker=settings.worker_identity, task_queue=settings.task_queue).set(
        1
    )
    return MetricsEndpoint(server, port)

"""The test site: one edge node (Line1) with a Filler and a Capper, its tags and guardrails."""

from __future__ import annotations

from connectors.mqtt.datatypes import DataType
from factory_agents.policy import Policy, SetpointLimit
from tests.connectors.mqtt.edge_node import SimMetric

EDGE = "Line1"
BROKER = "mqtt://127.0.0.1:1883"


def node_metrics() -> list[SimMetric]:
    """The edge node's own metrics: the rebirth control and a line speed setpoint."""
    return [
        SimMetric("Node Control/Rebirth", 1, DataType.BOOLEAN, False),
        SimMetric("Line Speed Setpoint", 2, DataType.DOUBLE, 60.0),
    ]


def filler_metrics() -> list[SimMetric]:
    """The Filler device: a measurement, setpoints of three types, a flag and a text."""
    return [
        SimMetric("Fill Weight", 10, DataType.DOUBLE, 502.25),
        SimMetric("Fill Weight Setpoint", 11, DataType.FLOAT, 500.0, {"engUnit": "g"}),
        SimMetric("Valve/Open", 12, DataType.BOOLEAN, True),
        SimMetric("Temperature Offset", 13, DataType.INT16, -5),
        SimMetric("Recipe", 14, DataType.STRING, "A-500"),
    ]


def capper_metrics() -> list[SimMetric]:
    """The Capper device: one measurement."""
    return [SimMetric("Torque", 20, DataType.FLOAT, 1.25)]


def tag(group: str, device: str | None, metric: str) -> str:
    """The connector's tag for a metric of the test's edge node."""
    return f"spBv1.0/{group}/{EDGE}/{device or ''}/{metric}"


def policy_for(group: str, *, unit: str = "g", min_interval: float = 0.0) -> Policy:
    """Guardrails for fill weight setpoint, temperature offset, line speed and (wrongly) recipe."""
    return Policy(
        setpoints=(
            SetpointLimit(
                node_id=tag(group, "Filler", "Fill Weight Setpoint"),
                unit=unit,
                minimum=480.0,
                maximum=520.0,
                max_step=2.0,
                min_interval_seconds=min_interval,
            ),
            SetpointLimit(
                node_id=tag(group, "Filler", "Temperature Offset"),
                unit="K",
                minimum=-20.0,
                maximum=20.0,
                max_step=5.0,
            ),
            SetpointLimit(
                node_id=tag(group, None, "Line Speed Setpoint"),
                unit="bpm",
                minimum=40.0,
                maximum=80.0,
                max_step=5.0,
            ),
            SetpointLimit(
                node_id=tag(group, "Filler", "Recipe"), unit="", minimum=0, maximum=1, max_step=1
            ),
        )
    )

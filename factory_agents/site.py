"""The embedded default site: the simulated line's tags, the agents watching it, the policy."""

from __future__ import annotations

from typing import Any

from factory_agents.policy import Policy, SetpointLimit

NAMESPACE_URI = "urn:factory-agents:simulator"
LINE = "line1"


def node(path: str) -> str:
    """The NodeId string of a simulator tag, e.g. node('Line1.Filler.FillWeight')."""
    return f"ns=2;s={path}"


MACHINES = ("Filler", "Capper", "Labeler")
FILL_WEIGHT = node("Line1.Filler.FillWeight")
FILL_SETPOINT = node("Line1.Filler.FillWeightSetpoint")
LINE_GOOD = node("Line1.GoodCount")
LINE_SCRAP = node("Line1.ScrapCount")

FILL_TARGET_G = 500.0
FILL_LSL_G = 497.0
FILL_USL_G = 503.0
FILL_SIGMA_G = 0.8

DEFAULT_POLICY = Policy(
    setpoints=(
        SetpointLimit(node_id=FILL_SETPOINT, unit="g", minimum=490.0, maximum=510.0, max_step=4.0),
    )
)


def default_agent_configs() -> dict[str, dict[str, Any]]:
    """Config of every agent the default site runs, keyed by agent name."""
    return {
        "spc_drift": {
            "line": LINE,
            "characteristic": FILL_WEIGHT,
            "characteristic_name": "fill weight",
            "unit": "g",
            "setpoint": FILL_SETPOINT,
            "good_counter": LINE_GOOD,
            "scrap_counter": LINE_SCRAP,
            "target": FILL_TARGET_G,
            "lsl": FILL_LSL_G,
            "usl": FILL_USL_G,
        }
    }

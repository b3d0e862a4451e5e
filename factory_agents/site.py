"""The embedded default site: the simulated line's tags, the agents watching it, the policy."""

from __future__ import annotations

from typing import Any

from factory_agents.agent import RiskClass
from factory_agents.policy import ActionRule, Policy, SetpointLimit

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

CAP_TORQUE = node("Line1.Capper.Torque")
CAP_TORQUE_SETPOINT = node("Line1.Capper.TorqueSetpoint")
CAP_REWORK = node("Line1.Capper.ReworkCount")

TORQUE_TARGET = 1.6
TORQUE_LSL = 1.2
TORQUE_USL = 2.0
TORQUE_SIGMA = 0.08

LABEL_CHARACTERISTIC = "label position"
LABEL_REINSPECTION = "label re-inspection"
LABEL_LSL_MM = -1.5
LABEL_USL_MM = 1.5
LABEL_SIGMA_MM = 0.7

CAPPER_EQUIPMENT = f"{LINE}.capper"
CAPPER_VIBRATION_RMS = node("Line1.Capper.VibrationRms")
CAPPER_VIBRATION_KURTOSIS = node("Line1.Capper.VibrationKurtosis")
CAPPER_VIBRATION_CREST = node("Line1.Capper.VibrationCrest")
CAPPER_BEARING_TEMPERATURE = node("Line1.Capper.BearingTemperature")
BEARING_FAILURE_RMS_MM_S = 7.1
"""Vibration velocity RMS at which the capper's bearing fails (ISO 10816-3 zone D begins)."""
PLANNED_STOP_CODE = "DT-PS"
PLANNED_MAINTENANCE_CODE = "DT-PM"
BEARING_FAILURE_CODE = "DT-BRG"

SITE_ENERGY = node("Line1.SiteEnergy")
DEFERRABLE_LOADS = {
    "compressed-air receiver recharge": "Line1.AirReceiver",
    "chiller pre-cooling": "Line1.Chiller",
    "CIP tank heating": "Line1.CipTank",
}
"""Each deferrable load and its controller's object: its request and sub-meter tags sit under it."""

FILL_TARGET_G = 500.0
FILL_LSL_G = 497.0
FILL_USL_G = 503.0
FILL_SIGMA_G = 0.8

DEFAULT_POLICY = Policy(
    setpoints=(
        SetpointLimit(node_id=FILL_SETPOINT, unit="g", minimum=490.0, maximum=510.0, max_step=4.0),
        SetpointLimit(
            node_id=CAP_TORQUE_SETPOINT,
            unit="N·m",
            minimum=TORQUE_LSL,
            maximum=TORQUE_USL,
            max_step=0.4,
            risk=RiskClass.LOW,
        ),
    ),
    actions=(
        ActionRule(kind="lot_hold", risk=RiskClass.MEDIUM, reversible=True, max_items=20),
        ActionRule(kind="advice", risk=RiskClass.LOW, reversible=True),
        ActionRule(kind="load_shift", risk=RiskClass.LOW, reversible=True, max_items=10),
        ActionRule(kind="maintenance_work_order", risk=RiskClass.LOW, reversible=True),
        ActionRule(kind="dispatch_list", risk=RiskClass.LOW, reversible=True, max_items=200),
        ActionRule(kind="purchase_requisition", risk=RiskClass.MEDIUM, max_quantity=5_000.0),
    ),
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
        },
        "capability": {},  # its defaults are the capper torque of Line 1
        "defect_burst": {},  # its defaults are the labeler's label position checks
        "oee_losses": {"lines": (LINE,)},  # the last shift of Line 1, from the MES
        "load_shift": {},  # its defaults are the site meter, three utility loads, a compressed day
        "condition_monitoring": {},  # its defaults are the capper's vibration sensor and bearing
        # the tool room's orders run in real seconds (a compressed shift): a 1 s grid
        "sequencing": {"time_unit_seconds": 1.0, "min_saving": "0.10"},
        "reorder": {},  # its defaults are the packer's shrink film and the MRP's (r, Q)
        "shortage": {},  # its defaults are the multipack line, its gift boxes and supplier terms
    }

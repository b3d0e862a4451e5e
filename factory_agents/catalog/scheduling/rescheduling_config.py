"""The rescheduling agent's settings: the shop's machine-state tags, repair estimate, stability."""

from __future__ import annotations

from pydantic import Field

from factory_agents.catalog.scheduling.sequencing_config import (
    SHOP_LINE,
    SHOP_MACHINES,
    SequencingConfig,
)
from factory_agents.site import node

PACKML_STATES = {
    1: "Clearing", 2: "Stopped", 3: "Starting", 4: "Idle", 5: "Suspended", 6: "Execute",
    7: "Stopping", 8: "Aborting", 9: "Aborted", 10: "Holding", 11: "Held", 12: "Unholding",
    13: "Suspending", 14: "Unsuspending", 15: "Resetting", 16: "Completing", 17: "Complete",
}  # fmt: skip
"""PackML (ISA-TR88.00.02) StateCurrent numbers, as a machine's state tag reports them."""
EXECUTE, IDLE, ABORTED = 6, 4, 9


def state_path(machine: str) -> str:
    """The simulator path of a tool-room machine's PackML state tag (Line1.Mill.StateCurrent)."""
    return f"Line1.{machine.title()}.StateCurrent"


def repair_path(machine: str) -> str:
    """The path of the machine's repair estimate: seconds until it is expected back."""
    return f"Line1.{machine.title()}.RepairRemaining"


def _by_machine(repair: bool = False) -> dict[str, str]:
    """Each tool-room machine's MES equipment id and the node id of its state (or repair) tag."""
    make = repair_path if repair else state_path
    return {f"{SHOP_LINE}.{m}": node(make(m)) for m in SHOP_MACHINES}


class ReschedulingConfig(SequencingConfig):
    """The sequencing settings (line, objective, costs, grid) plus machine state and repair."""

    state_tags: dict[str, str] = Field(
        default_factory=_by_machine,
        description="MES equipment id -> node id of its PackML StateCurrent (a number)",
    )
    repair_tags: dict[str, str] = Field(
        default_factory=lambda: _by_machine(repair=True),
        description="MES equipment id -> node id of the seconds until it is expected back",
    )
    down_states: tuple[int, ...] = Field(
        (8, 9), description="PackML states meaning 'down' (Aborting, Aborted: a fault)"
    )
    default_repair_seconds: float = Field(
        600.0, gt=0, description="Expected repair time when neither tag nor MES gives one"
    )
    state_stale_after_seconds: float = Field(
        30.0, gt=0, description="A state sample older than this is not used"
    )
    history_seconds: float = Field(
        600.0, gt=0, description="State history read to see the change to down"
    )
    stability_weight: float = Field(
        0.1, ge=0, description="Objective units per time unit of start shift (repair.py)"
    )
    done_statuses: tuple[str, ...] = Field(
        ("completed",), description="Operation statuses meaning done (left out of the repair)"
    )
    open_order_statuses: tuple[str, ...] = Field(
        ("released", "running"), description="Work-order statuses whose remaining work is repaired"
    )

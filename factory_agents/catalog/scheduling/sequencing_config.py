"""The sequencing agent's settings: which shop, what lateness and shop time cost, solve time."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from factory_agents.catalog.scheduling.jobshop import Objective

SHOP_LINE = "toolroom"
"""The site's job shop (the tool room making change parts), an ISA-95 line of site1."""
SHOP_AREA = "site1.workshop"
SHOP_MACHINES = ("lathe", "mill", "grinder")
"""The shop's machines; their MES equipment ids are `toolroom.<machine>`."""


class SequencingConfig(BaseModel):
    """Which line's queue to sequence, on what objective, at what cost, within what solve time."""

    model_config = ConfigDict(frozen=True)

    line: str = Field(
        SHOP_LINE, description="The line (job shop) whose released orders to sequence"
    )
    objective: Objective = "weighted_tardiness"
    time_unit_seconds: float = Field(
        60.0, gt=0, description="The solver's time grid; durations are rounded up to it"
    )
    time_limit_seconds: float = Field(2.0, gt=0, description="CP-SAT's time limit per run")
    num_workers: int = Field(1, ge=1, description="CP-SAT search workers")
    cost_per_weighted_minute: Decimal = Field(
        Decimal("1.20"), description="What one minute of lateness of a weight-1 order costs"
    )
    cost_per_shop_hour: Decimal = Field(
        Decimal("180"), description="What one hour of the whole shop costs (makespan objective)"
    )
    currency: str = "EUR"
    priority_weights: dict[int, int] = Field(
        default_factory=lambda: {1: 3, 2: 2, 3: 1},
        description="Tardiness weight of an order by its MES priority (1 most urgent)",
    )
    min_improvement: float = Field(
        0.05, ge=0, le=1, description="Relative improvement on the baseline needed to propose"
    )
    min_saving: Decimal = Field(Decimal("1.00"), description="Smaller savings are not proposed")
    open_statuses: tuple[str, ...] = Field(
        ("planned",), description="Operation statuses meaning 'not yet started, not dispatched'"
    )
    dispatched_status: str = Field("dispatched", description="Operations under a list in force")
    running_statuses: tuple[str, ...] = ("running",)
    order_statuses: tuple[str, ...] = Field(
        ("released",), description="Work-order statuses that may be sequenced"
    )
    max_orders: int = Field(30, ge=1, description="Orders sequenced at once, earliest due first")
    stale_after_seconds: float = Field(120.0, gt=0, description="MES reads older are not used")
    mes_lookback_hours: float = Field(24.0, gt=0)
    measure_slack: float = Field(
        0.25, ge=0, description="Measured this share of the plan's span after its planned end"
    )
    settle_seconds: float = Field(5.0, ge=0, description="And this long, for the MES to record")

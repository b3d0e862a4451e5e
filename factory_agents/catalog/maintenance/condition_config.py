"""What the condition-monitoring agent watches, how it judges, and what failures and jobs cost."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from factory_agents.catalog.maintenance.anomaly import PersistenceRule
from factory_agents.catalog.maintenance.saving import FailureCosts
from factory_agents.site import (
    BEARING_FAILURE_CODE,
    BEARING_FAILURE_RMS_MM_S,
    CAPPER_BEARING_TEMPERATURE,
    CAPPER_EQUIPMENT,
    CAPPER_VIBRATION_CREST,
    CAPPER_VIBRATION_KURTOSIS,
    CAPPER_VIBRATION_RMS,
    LINE,
    PLANNED_MAINTENANCE_CODE,
)


class ConditionConfig(BaseModel):
    """Which sensor features to watch, the failure threshold, the detector and the costs."""

    model_config = ConfigDict(frozen=True)

    line: str = LINE
    equipment_id: str = CAPPER_EQUIPMENT
    equipment_name: str = "capper"
    part: str = "drive-end bearing"
    features: dict[str, str] = Field(
        default_factory=lambda: {
            "v_rms": CAPPER_VIBRATION_RMS,
            "kurtosis": CAPPER_VIBRATION_KURTOSIS,
            "crest_factor": CAPPER_VIBRATION_CREST,
            "bearing_temperature": CAPPER_BEARING_TEMPERATURE,
        },
        description="Feature name → tag: the sensor's per-window features",
    )
    health_indicator: str = Field("v_rms", description="The feature whose trend gives the life")
    health_name: str = "vibration velocity RMS"
    health_unit: str = "mm/s"
    failure_threshold: float = Field(BEARING_FAILURE_RMS_MM_S, gt=0)
    planned_stop_equipment: str = Field(
        LINE, description="Its maintenance orders with status planned are the planned stops"
    )
    work_reason_codes: tuple[str, ...] = Field(
        (PLANNED_MAINTENANCE_CODE, BEARING_FAILURE_CODE),
        description="Stops of the equipment after which its condition is new (work on it)",
    )
    failure_reason_code: str = Field(BEARING_FAILURE_CODE, description="The failure's stops")
    lookback_seconds: float = Field(900.0, gt=0)
    reference_windows: int = Field(100, ge=10)
    alpha: float = Field(0.01, gt=0, lt=1, description="Per-window false-alarm probability")
    persistence_k: int = Field(3, ge=1)
    persistence_n: int = Field(5, ge=1, le=10)
    min_trend_windows: int = Field(
        40, ge=3, description="Windows since the anomaly's onset before its trend is trusted"
    )
    stale_after_seconds: float = Field(30.0, gt=0)
    confirm_seconds: float = Field(
        60.0,
        ge=0,
        description="The saving is measured this long after the predicted failure, so the MES"
        " has confirmed the job (or recorded the failure) by then",
    )
    confidence: float = Field(0.90, gt=0, lt=1)
    min_failure_probability: float = Field(
        0.5, gt=0, le=1, description="P(failure within the horizon) that calls for an order"
    )
    horizon_hours: float = Field(
        24.0, gt=0, description="Without an order, the part stays in at least this long"
    )
    unplanned_downtime_hours: float = Field(0.5, ge=0, description="A failure's repair")
    downtime_cost_per_hour: Decimal = Field(Decimal("1200"), ge=0)
    collateral_damage_cost: Decimal = Field(Decimal("800"), ge=0)
    planned_work_cost: Decimal = Field(Decimal("250"), ge=0, description="What the job adds")
    currency: str = "EUR"

    @model_validator(mode="after")
    def _consistent(self) -> ConditionConfig:
        if self.health_indicator not in self.features:
            raise ValueError(
                f"health_indicator {self.health_indicator!r} is not one of the features"
                f" {sorted(self.features)}"
            )
        if self.persistence_k > self.persistence_n:
            raise ValueError(f"need persistence_k <= persistence_n, got {self.persistence_k}")
        if self.reference_windows < len(self.features) + 2:
            raise ValueError(f"reference_windows must exceed the {len(self.features)} features")
        return self

    @property
    def rule(self) -> PersistenceRule:
        """The persistence rule: k of the last n windows beyond the limit."""
        return PersistenceRule(self.persistence_k, self.persistence_n)

    @property
    def costs(self) -> FailureCosts:
        """What a failure costs and what the planned job adds."""
        return FailureCosts(
            unplanned_downtime_hours=self.unplanned_downtime_hours,
            downtime_cost_per_hour=self.downtime_cost_per_hour,
            collateral_damage_cost=self.collateral_damage_cost,
            planned_work_cost=self.planned_work_cost,
            currency=self.currency,
        )

"""What the shortage agent watches: one line's planned orders, the price of lateness, expediting.

The defaults are the simulated multipack line, in compressed time: its work orders run for
seconds, so an hour late costs what a real plant's hour would, spread over a few seconds of the
simulator, and Smurfit Kappa can rush an open order of gift boxes within 15 s for 100 EUR.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

MULTIPACK_AREA = "site1.bottling"
MULTIPACK_LINE = "line2"
MULTIPACK_WRAPPER = "line2.wrapper"
BOX_STILL = "RM-GIFTBOX-STILL"
BOX_SPARK = "RM-GIFTBOX-SPARK"
BOX_PLAIN = "RM-GIFTBOX-PLAIN"
BOX_SUPPLIER = "smurfit-kappa"
BOX_UNIT = "pcs"


class ExpediteTerms(BaseModel):
    """What one supplier asks to rush an open order, and how soon it can then deliver."""

    model_config = ConfigDict(frozen=True)

    supplier: str
    fastest_seconds: float = Field(gt=0, description="Earliest delivery, from now, when rushed")
    cost_per_order: Decimal = Field(Decimal(0), ge=0)
    cost_per_unit: Decimal = Field(Decimal(0), ge=0)


class ShortageConfig(BaseModel):
    """The line, the planning horizon, the prices that rank the remedies, and the data checks."""

    model_config = ConfigDict(frozen=True)

    line: str = MULTIPACK_LINE
    horizon_seconds: float = Field(600.0, gt=0, description="Orders starting this far ahead")
    tardiness_cost_per_hour: Decimal = Field(
        Decimal(7200), ge=0, description="Cost of one work order finishing one hour past due"
    )
    expedite: tuple[ExpediteTerms, ...] = (
        ExpediteTerms(supplier=BOX_SUPPLIER, fastest_seconds=15.0, cost_per_order=Decimal(100)),
    )
    min_saving: Decimal = Field(Decimal("1.00"), ge=0, description="Smaller savings: no proposal")
    stale_after_seconds: float = Field(
        60.0, gt=0, description="An MES read older than this is too stale to plan on"
    )
    overdue_grace_seconds: float = Field(
        10.0, ge=0, description="An open order later than this past its date: arrival uncertain"
    )
    settle_seconds: float = Field(5.0, ge=0, description="Measured this long past the last end")
    mes_lookback_hours: float = Field(1.0, gt=0)
    currency: str = "EUR"

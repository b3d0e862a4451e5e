"""Demand per period, planned requirements and supplier lead times on hand-made records."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from factory_agents.catalog.supply_chain import demand as dm
from factory_agents.catalog.supply_chain import inventory as inv

START = datetime(2026, 2, 2, 0, 0, tzinfo=UTC)


def _day(d: float, hour: float = 12) -> datetime:
    return START + timedelta(days=d, hours=hour)


def _use(
    quantity: float, day: float, hour: float = 12, material: str = "RM-CO2"
) -> dm.ConsumptionRecord:
    return dm.ConsumptionRecord(material, quantity, _day(day, hour), "kg")


def test_consumption_is_summed_per_day_with_zero_days_counted() -> None:
    records = [
        _use(5, 0, 6),
        _use(3, 0, 18),
        _use(4, 2),
        _use(6, 5),
        _use(99, 1, material="RM-LEMON-AROMA"),
    ]
    estimate = dm.demand_per_period(
        records, "RM-CO2", start=START, end=START + timedelta(days=7), min_periods=5
    )
    assert estimate.per_period == (8, 0, 4, 0, 0, 6, 0)
    # by hand: Σx = 18, Σx² = 116, n = 7 → mean 18/7, s² = (116 − 18²/7)/6
    assert estimate.mean == pytest.approx(18 / 7)
    assert estimate.std == pytest.approx(math.sqrt((116 - 18**2 / 7) / 6))
    assert estimate.unit == "kg"
    assert estimate.periods == 7
    assert not estimate.uncertain
    assert any("intermittent" in note for note in estimate.notes)


def test_weekly_periods_bucket_by_week() -> None:
    records = [_use(1, d) for d in range(28)] + [_use(10, 8)]
    estimate = dm.demand_per_period(
        records, "RM-CO2", start=START, end=START + timedelta(days=28), period_days=7
    )
    assert estimate.per_period == (7, 17, 7, 7)
    assert estimate.uncertain
    assert "only 4 periods" in estimate.notes[0]


def test_records_outside_the_window_are_left_out_and_counted() -> None:
    records = [_use(2, d) for d in range(-3, 14)]
    estimate = dm.demand_per_period(records, "RM-CO2", start=START, end=START + timedelta(days=12))
    assert estimate.per_period == (2,) * 12
    assert estimate.std == 0
    assert any("5 record(s) outside the window" in note for note in estimate.notes)


def test_too_few_periods_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least two are needed"):
        dm.demand_per_period([_use(1, 0)], "RM-CO2", start=START, end=START + timedelta(days=1))


def test_a_partial_last_period_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        dm.demand_per_period(
            [], "RM-CO2", start=START, end=START + timedelta(days=10), period_days=7
        )


def test_negative_consumption_is_an_error() -> None:
    with pytest.raises(ValueError, match="record returns and stock corrections separately"):
        dm.demand_per_period([_use(-4, 1)], "RM-CO2", start=START, end=START + timedelta(days=3))


def test_mixed_units_are_an_error() -> None:
    records = [_use(1, 0), dm.ConsumptionRecord("RM-CO2", 1000, _day(1), "g")]
    with pytest.raises(ValueError, match=r"different units \['g', 'kg'\]"):
        dm.demand_per_period(records, "RM-CO2", start=START, end=START + timedelta(days=3))


def test_naive_times_are_an_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        dm.demand_per_period([], "RM-CO2", start=datetime(2026, 2, 2), end=datetime(2026, 2, 9))


def test_no_consumption_at_all_is_flagged() -> None:
    estimate = dm.demand_per_period([], "RM-CO2", start=START, end=START + timedelta(days=20))
    assert estimate.mean == 0
    assert estimate.uncertain
    assert any("no consumption" in note for note in estimate.notes)


def test_planned_demand_over_the_lead_time() -> None:
    requirements = [
        dm.Requirement("RM-CO2", 40, _day(1), "WO-2", "kg"),
        dm.Requirement("RM-CO2", 25, _day(0, 8), "WO-1", "kg"),
        dm.Requirement("RM-CO2", 30, _day(4), "WO-3", "kg"),  # after the 3-day lead time
        dm.Requirement("RM-CO2", 10, _day(1, 20), "WO-2", "kg", operation="20"),
        dm.Requirement("RM-LEMON-AROMA", 5, _day(1), "WO-2", "kg"),
    ]
    planned = dm.planned_demand(requirements, "RM-CO2", start=START, lead_time_days=3)
    assert planned.quantity == 75
    assert planned.work_orders == ("WO-1", "WO-2")
    assert planned.requirements == 3
    assert planned.window_end == START + timedelta(days=3)


def test_planned_demand_needs_a_lead_time() -> None:
    with pytest.raises(ValueError, match="lead time must be a positive number of days"):
        dm.planned_demand([], "RM-CO2", start=START, lead_time_days=0)


def _order(supplier: str, ordered_day: float, lead_days: float, po: str = "") -> dm.ReceivedOrder:
    ordered = _day(ordered_day, 9)
    return dm.ReceivedOrder(supplier, ordered, ordered + timedelta(days=lead_days), po)


def test_supplier_lead_time_statistics_by_hand() -> None:
    orders = [_order("Linde", i * 20, lead) for i, lead in enumerate((10, 12, 14, 16, 18))]
    orders.append(_order("Symrise", 3, 30))
    stats = dm.supplier_lead_times(orders)
    linde = stats["Linde"]
    # 10, 12, 14, 16, 18 days: mean 14, sample variance (16 + 4 + 0 + 4 + 16)/4 = 10
    assert linde.orders == 5
    assert linde.mean_days == pytest.approx(14)
    assert linde.std_days == pytest.approx(math.sqrt(10))
    assert (linde.min_days, linde.max_days) == (10, 18)
    assert not linde.uncertain
    symrise = stats["Symrise"]
    assert symrise.std_days is None
    assert symrise.uncertain
    assert "spread of the lead time is unknown" in symrise.notes[0]


def test_few_received_orders_are_flagged_uncertain() -> None:
    stats = dm.supplier_lead_time([_order("Alpla", 0, 5), _order("Alpla", 9, 7)], "Alpla")
    assert stats.uncertain
    assert stats.std_days == pytest.approx(math.sqrt(2))
    assert "only 2 received orders" in stats.notes[0]


def test_received_before_ordered_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"received .* before it was ordered"):
        dm.supplier_lead_time([_order("Alpla", 5, -1, "PO-9")], "Alpla")


def test_unknown_supplier_is_an_error() -> None:
    with pytest.raises(ValueError, match="no received orders from supplier Bericap"):
        dm.supplier_lead_time([_order("Alpla", 0, 5)], "Bericap")


def test_history_to_reorder_point() -> None:
    # 28 days of CO2 use and five Linde deliveries → lead-time demand → reorder point
    daily = [40, 52, 38, 45, 61, 33, 47] * 4
    records = [_use(q, d) for d, q in enumerate(daily)]
    use = dm.demand_per_period(records, "RM-CO2", start=START, end=START + timedelta(days=28))
    orders = [_order("Linde", i * 20, lead) for i, lead in enumerate((4, 5, 6, 5, 5))]
    lead = dm.supplier_lead_time(orders, "Linde")
    assert lead.std_days is not None
    ltd = inv.lead_time_demand(use.mean, use.std, lead.mean_days, lead.std_days)
    # mean 316/7 kg a day over 5 days; σ² = 5·s_D² + D²·s_L² with s_L² = 0.5
    assert ltd.mean == pytest.approx(5 * 316 / 7)
    assert ltd.std == pytest.approx(math.sqrt(5 * use.std**2 + (316 / 7) ** 2 * 0.5))
    point = inv.reorder_point_for_cycle_service(ltd, 0.95)
    assert point.reorder_point > ltd.mean

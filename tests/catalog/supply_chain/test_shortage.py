"""Shortages against the plan and their options, on a small plant checked by hand."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from factory_agents.catalog.supply_chain import shortage as sh
from factory_agents.catalog.supply_chain.demand import Requirement

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # Monday 06:00
CAP, CAP_B, CAP_C, LABEL = "RM-CAP-28", "RM-CAP-28-B", "RM-CAP-28-C", "RM-LABEL-500"


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


# The plant: line1 runs WO-1, WO-2, WO-3 back to back, 8 h each, from now.
#   WO-1 06:00–14:00 due 18:00, needs 20,000 caps at its start
#   WO-2 14:00–22:00 due Tue 06:00, needs 30,000 caps
#   WO-3 22:00–06:00 due Tue 12:00, needs 10,000 labels
# Caps: L1 30,000 released; L2 quarantine, L3 expired, L4 consumed, L5 blocked (none count);
# PO-7 brings 40,000 caps from Bericap on Tue 10:00. Alternatives: 25,000 of CAP_B (+0.02 a cap)
# and 5,000 of CAP_C (same price). Tardiness costs 100 EUR an hour.
LOTS = (
    sh.StockLot("L1", CAP, 30_000, "pcs", "released", at(24 * 300)),
    sh.StockLot("L2", CAP, 50_000, "pcs", "quarantine"),
    sh.StockLot("L3", CAP, 10_000, "pcs", "released", at(-2)),
    sh.StockLot("L4", CAP, 40_000, "pcs", "consumed"),
    sh.StockLot("L5", CAP, 5_000, "pcs", "Blocked"),
    sh.StockLot("L6", CAP_B, 25_000, "pcs", "released"),
    sh.StockLot("L7", CAP_C, 5_000, "pcs", "released"),
    sh.StockLot("L8", LABEL, 10_000, "pcs", "released"),
)
RECEIPTS = (sh.Receipt(CAP, 40_000, at(28), "PO-7", "Bericap", "pcs"),)
OPERATIONS = (
    sh.PlannedOperation("WO-1", "line1", at(0), at(8), at(12)),
    sh.PlannedOperation("WO-2", "line1", at(8), at(16), at(24)),
    sh.PlannedOperation("WO-3", "line1", at(16), at(24), at(30)),
)
REQUIREMENTS = (
    Requirement(CAP, 20_000, at(0), "WO-1", "pcs"),
    Requirement(CAP, 30_000, at(8), "WO-2", "pcs"),
    Requirement(LABEL, 10_000, at(16), "WO-3", "pcs"),
)
PLAN = sh.MaterialPlan(NOW, LOTS, RECEIPTS, REQUIREMENTS, OPERATIONS)
COSTS = sh.ResolutionCosts(
    tardiness_cost_per_hour=Decimal(100),
    expedite_offers=(sh.ExpediteOffer("PO-7", at(14), Decimal(500), Decimal("0.01")),),
    substitutes=(
        sh.Substitute(CAP, CAP_B, Decimal("0.02")),
        sh.Substitute(CAP, CAP_C, Decimal("0.00")),
    ),
)


def test_only_released_unexpired_lots_count_and_the_report_says_so() -> None:
    report = sh.find_shortages(PLAN)
    excluded = {lot.lot: lot.reason for lot in report.excluded_lots}
    assert excluded == {
        "L2": "status 'quarantine', not released",
        "L3": "expired 2026-03-02 04:00",
        "L4": "status 'consumed', not released",
        "L5": "status 'blocked', not released",
    }
    assert "only released lots count" in report.notes[0]
    caps = next(p for p in report.projections if p.material == CAP)
    assert caps.released_on_hand == 30_000
    assert caps.held_quantity == 55_000  # quarantine 50,000 + blocked 5,000


def test_projected_available_caps_by_hand() -> None:
    caps = next(p for p in sh.find_shortages(PLAN).projections if p.material == CAP)
    assert [(p.at, p.change, p.available) for p in caps.points] == [
        (at(0), 30_000, 30_000),
        (at(0), -20_000, 10_000),  # WO-1
        (at(8), -30_000, -20_000),  # WO-2: 20,000 short
        (at(28), 40_000, 20_000),  # PO-7
    ]


def test_the_shortage_of_caps() -> None:
    report = sh.find_shortages(PLAN)
    assert len(report.shortages) == 1
    shortage = report.shortages[0]
    assert shortage.material == CAP
    assert shortage.first_short_at == at(8)
    assert shortage.quantity_short == 20_000
    assert shortage.work_orders == ("WO-2",)
    assert shortage.covered_at == at(28)
    assert shortage.held_quantity == 55_000
    (requirement,) = shortage.requirements
    assert (requirement.short_quantity, requirement.covered_at) == (20_000, at(28))


def _options() -> dict[str, sh.ShortageOption]:
    (decision,) = sh.resolve_shortages(PLAN, COSTS)
    # keyed by kind and what it acts on: the PO, the alternative, the work order moved first
    keyed: dict[str, sh.ShortageOption] = {}
    for option in decision.options:
        words = option.action.split()
        subject = words[4] if option.kind is sh.OptionKind.SUBSTITUTE else words[1]
        keyed[f"{option.kind.value}:{subject}"] = option
    return keyed


def test_waiting_for_the_purchase_order() -> None:
    # WO-2 waits for PO-7: starts Tue 10:00, ends 18:00, due 06:00 → 12 h late; WO-3 follows
    # on the line: 18:00–02:00, due Tue 12:00 → 14 h late. 26 h × 100 = 2,600.
    wait = _options()["wait:for"]
    late = {w.work_order: w.hours_late for w in wait.lateness}
    assert late == {"WO-1": 0, "WO-2": 12, "WO-3": 14}
    assert wait.tardiness_hours == 26
    assert (wait.direct_cost, wait.tardiness_cost, wait.total_cost) == (
        Decimal("0.00"),
        Decimal("2600.00"),
        Decimal("2600.00"),
    )
    assert not wait.resolves


def test_expediting_the_purchase_order() -> None:
    # Bericap can deliver Mon 20:00 for 500 an order + 0.01 × 40,000 caps = 900. WO-2 then runs
    # 20:00–04:00 (due 06:00) and WO-3 04:00–12:00 (due 12:00): nobody late. Total 900.
    expedite = _options()["expedite:PO-7"]
    assert expedite.direct_cost == Decimal("900.00")
    assert expedite.tardiness_hours == 0
    assert expedite.total_cost == Decimal("900.00")
    ends = {w.work_order: w.expected_end for w in expedite.lateness}
    assert ends == {"WO-1": at(8), "WO-2": at(22), "WO-3": at(30)}
    assert not expedite.resolves  # the caps still arrive 6 h after WO-2's planned start


def test_substituting_a_cap_with_enough_stock() -> None:
    # 20,000 caps of CAP_B at +0.02 = 400; everything runs as planned.
    substitute = _options()[f"substitute:{CAP_B}"]
    assert substitute.action == f"Use 20,000 pcs of {CAP_B} instead of 20,000 pcs of {CAP} for WO-2"
    assert substitute.direct_cost == Decimal("400.00")
    assert substitute.tardiness_cost == Decimal("0.00")
    assert substitute.resolves
    assert all(w.hours_late == 0 for w in substitute.lateness)


def test_substitute_without_enough_stock_blocks_the_work_order() -> None:
    (decision,) = sh.resolve_shortages(PLAN, COSTS)
    short_of_c = next(o for o in decision.options if CAP_C in o.action)
    assert short_of_c.blocked_work_orders == ("WO-2",)
    assert short_of_c.total_cost == Decimal("0.00")
    assert not short_of_c.resolves
    assert decision.options[-1] is short_of_c  # cheapest, but ranked last: WO-2 never runs


def test_resequencing_runs_the_label_order_first() -> None:
    # WO-3 (labels available) runs 14:00–22:00, on time; WO-2 then waits for PO-7: Tue 10:00–18:00,
    # 12 h late → 1,200.
    resequence = _options()["resequence:WO-3"]
    ends = {w.work_order: w.expected_end for w in resequence.lateness}
    assert ends == {"WO-1": at(8), "WO-2": at(36), "WO-3": at(16)}
    assert {w.work_order: w.hours_late for w in resequence.lateness}["WO-2"] == 12
    assert resequence.total_cost == Decimal("1200.00")


def test_recommendation_is_the_cheapest_option_with_material() -> None:
    (decision,) = sh.resolve_shortages(PLAN, COSTS)
    assert [o.kind.value for o in decision.options] == [
        "substitute",
        "expedite",
        "resequence",
        "wait",
        "substitute",
    ]
    assert [o.total_cost for o in decision.options[:4]] == [
        Decimal("400.00"),
        Decimal("900.00"),
        Decimal("1200.00"),
        Decimal("2600.00"),
    ]
    assert decision.recommended.kind is sh.OptionKind.SUBSTITUTE
    assert decision.saving_against_waiting == Decimal("2200.00")
    assert "Recommended: substitute" in decision.explanation
    assert "400.00 EUR against 2600.00 EUR for waiting" in decision.explanation


def test_each_option_explains_its_numbers() -> None:
    expedite = _options()["expedite:PO-7"]
    assert "500 per order + 0.01 × 40,000 pcs" in expedite.explanation
    assert "from 2026-03-03 10:00 to 2026-03-02 20:00" in expedite.explanation
    wait = _options()["wait:for"]
    assert "WO-3 ends 2026-03-04 02:00, 14.0 h after due" in wait.explanation


def test_a_lot_expiring_before_a_later_need_leaves_a_shortage() -> None:
    plan = sh.MaterialPlan(
        NOW,
        (sh.StockLot("A1", LABEL, 100, "pcs", "released", at(10)),),
        (),
        (
            Requirement(LABEL, 50, at(5), "WO-1", "pcs"),
            Requirement(LABEL, 30, at(12), "WO-2", "pcs"),
        ),
    )
    report = sh.find_shortages(plan)
    (projection,) = report.projections
    assert [(p.change, p.available, p.event) for p in projection.points] == [
        (100, 100, "released stock on hand"),
        (-50, 50, "requirement of WO-1"),
        (-50, 0, "lot A1 expires"),
        (-30, -30, "requirement of WO-2"),
    ]
    (shortage,) = report.shortages
    assert (shortage.first_short_at, shortage.quantity_short, shortage.covered_at) == (
        at(12),
        30,
        None,
    )


def test_first_expiring_lot_is_used_first() -> None:
    plan = sh.MaterialPlan(
        NOW,
        (
            sh.StockLot("LATE", LABEL, 50, "pcs", "released", at(100)),
            sh.StockLot("SOON", LABEL, 50, "pcs", "released", at(10)),
        ),
        (),
        (
            Requirement(LABEL, 50, at(5), "WO-1", "pcs"),
            Requirement(LABEL, 50, at(20), "WO-2", "pcs"),
        ),
    )
    report = sh.find_shortages(plan)
    assert report.shortages == ()
    assert all(c.short_quantity == 0 for c in report.coverage)


def test_shortages_come_in_time_order_across_materials_and_episodes() -> None:
    plan = sh.MaterialPlan(
        NOW,
        (
            sh.StockLot("C", CAP, 10, "pcs", "released"),
            sh.StockLot("L", LABEL, 10, "pcs", "released"),
        ),
        (
            sh.Receipt(CAP, 20, at(4), "PO-1", "Bericap", "pcs"),
            sh.Receipt(LABEL, 50, at(30), "PO-2", "CCL Label", "pcs"),
        ),
        (
            Requirement(CAP, 15, at(2), "WO-1", "pcs"),  # 5 short until PO-1 at +4 h
            Requirement(LABEL, 20, at(3), "WO-1", "pcs"),  # 10 short until PO-2 at +30 h
            Requirement(CAP, 20, at(6), "WO-2", "pcs"),  # 15 left from PO-1: 5 short, never covered
        ),
    )
    shortages = sh.find_shortages(plan).shortages
    assert [(s.material, s.first_short_at, s.quantity_short, s.covered_at) for s in shortages] == [
        (CAP, at(2), 5, at(4)),
        (LABEL, at(3), 10, at(30)),
        (CAP, at(6), 5, None),
    ]


def test_overdue_receipts_count_from_now_and_say_so() -> None:
    plan = sh.MaterialPlan(
        NOW,
        (),
        (sh.Receipt(CAP, 100, at(-5), "PO-3", "Bericap", "pcs"),),
        (Requirement(CAP, 80, at(1), "WO-1", "pcs"),),
    )
    report = sh.find_shortages(plan)
    assert report.shortages == ()
    assert any("PO-3" in n and "overdue" in n for n in report.notes)


def test_unit_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="unit mismatch for material RM-CAP-28"):
        sh.MaterialPlan(
            NOW,
            (sh.StockLot("L1", CAP, 10, "pcs", "released"),),
            (),
            (Requirement(CAP, 1, at(1), "WO-1", "thousand"),),
        )


def test_negative_quantity_is_an_error() -> None:
    with pytest.raises(ValueError, match="quantity of lot L1 must be a finite quantity"):
        sh.MaterialPlan(NOW, (sh.StockLot("L1", CAP, -10, "pcs", "released"),), (), ())


def test_pricing_options_needs_the_schedule() -> None:
    plan = sh.MaterialPlan(NOW, LOTS, RECEIPTS, REQUIREMENTS)
    with pytest.raises(ValueError, match="no planned operations given"):
        sh.resolve_shortages(plan, COSTS)


def test_requirements_without_an_operation_id_follow_their_work_orders_operation() -> None:
    operations = tuple(dataclasses.replace(op, operation="10") for op in OPERATIONS)
    plan = sh.MaterialPlan(NOW, LOTS, RECEIPTS, REQUIREMENTS, operations)
    (decision,) = sh.resolve_shortages(plan, COSTS)
    assert [(o.kind.value, o.total_cost) for o in decision.options[:4]] == [
        ("substitute", Decimal("400.00")),
        ("expedite", Decimal("900.00")),
        ("resequence", Decimal("1200.00")),
        ("wait", Decimal("2600.00")),
    ]


def test_when_waiting_never_gets_the_material_the_saving_is_not_a_number() -> None:
    # Without PO-7 WO-2 never gets its caps: waiting blocks it, the substitute does not.
    plan = sh.MaterialPlan(NOW, LOTS, (), REQUIREMENTS, OPERATIONS)
    (decision,) = sh.resolve_shortages(plan, COSTS)
    wait = next(o for o in decision.options if o.kind is sh.OptionKind.WAIT)
    assert wait.blocked_work_orders == ("WO-2",)
    assert decision.shortage.covered_at is None
    assert decision.recommended.kind is sh.OptionKind.SUBSTITUTE
    assert decision.recommended.total_cost == Decimal("400.00")
    assert decision.saving_against_waiting is None
    assert "waiting leaves WO-2 without material" in decision.explanation
    assert not any(o.kind is sh.OptionKind.EXPEDITE for o in decision.options)


def test_waiting_is_recommended_when_the_slack_absorbs_the_delay() -> None:
    # Due dates a day later: PO-7 at Tue 10:00 still gets WO-2 (ends 18:00) and WO-3 (02:00) out
    # in time, so doing nothing costs nothing.
    relaxed = tuple(
        dataclasses.replace(op, due_at=op.due_at + timedelta(days=1)) for op in OPERATIONS
    )
    (decision,) = sh.resolve_shortages(
        sh.MaterialPlan(NOW, LOTS, RECEIPTS, REQUIREMENTS, relaxed), COSTS
    )
    assert decision.recommended.kind is sh.OptionKind.WAIT
    assert decision.recommended.total_cost == Decimal("0.00")
    assert decision.saving_against_waiting == Decimal("0.00")

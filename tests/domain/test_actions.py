"""Action kinds: parsed by kind, checked on construction, named by subject, bounded by policy."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from factory_agents.actions import (
    Action,
    Advice,
    DispatchEntry,
    DispatchList,
    LoadPlan,
    LoadShift,
    LoadSlot,
    LotHold,
    MaintenanceWorkOrder,
    PurchaseRequisition,
    SetpointChange,
)
from factory_agents.errors import GuardrailViolation
from factory_agents.evidence import Evidence, Series, Table
from factory_agents.policy import ActionRule, Policy, SetpointLimit

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
ACTION = TypeAdapter[Action](Action)
EVIDENCE = TypeAdapter[Evidence](Evidence)


def entry(order: str, start_hour: int) -> DispatchEntry:
    """One hour of work order `order` on the filler."""
    start = T0 + timedelta(hours=start_hour)
    return DispatchEntry(
        work_order_id=order, operation=0, equipment_id="line1.filler", start=start,
        end=start + timedelta(hours=1),
    )  # fmt: skip


EXAMPLES: list[Any] = [
    SetpointChange(action_id="a1", node_id="ns=2;s=SP", from_value=500, to_value=498, unit="g"),
    LotHold(action_id="a2", lot_ids=("L2", "L1", "L2"), reason="defect burst"),
    PurchaseRequisition(
        action_id="a3",
        material_id="RM-CAP-28",
        quantity=40_000,
        unit="pcs",
        supplier="bericap",
        need_by=T0 + timedelta(days=5),
    ),
    DispatchList(action_id="a4", line_id="line1", entries=(entry("WO-1", 0), entry("WO-2", 1))),
    MaintenanceWorkOrder(
        action_id="a5", equipment_id="line1.capper", description="bearing", due_by=T0
    ),
    LoadShift(
        action_id="a6",
        site_id="site1",
        plans=(LoadPlan(load="chiller", slots=(LoadSlot(start=T0, end=T0, energy_kwh=5),)),),
    ),
    Advice(action_id="a7", topic="line1-oee", summary="Label jams cost 41 % of availability"),
]


@pytest.mark.parametrize("action", EXAMPLES, ids=lambda a: a.kind)
def test_every_kind_round_trips_through_json_by_its_kind(action: Any) -> None:
    parsed = ACTION.validate_json(action.model_dump_json())
    assert parsed == action
    assert type(parsed) is type(action)


def test_subjects_name_what_an_action_touches() -> None:
    assert [a.subject for a in EXAMPLES] == [
        "ns=2;s=SP",
        "lots:L1,L2",
        "material:RM-CAP-28",
        "dispatch:line1",
        "maintenance:line1.capper",
        "loads:site1",
        "advice:line1-oee",
    ]
    assert EXAMPLES[1].lot_ids == ("L1", "L2")  # sorted, each lot once


def test_descriptions_say_what_will_happen() -> None:
    described = [a.describe() for a in EXAMPLES]
    assert described[0] == "Set ns=2;s=SP 500 → 498 g"
    assert described[1] == "Hold 2 lot(s) in the MES: L1, L2"
    assert described[2] == "Request 40000 pcs of RM-CAP-28 from bericap by 2026-03-07"
    assert "2 operations, 2 work orders" in described[3]


@pytest.mark.parametrize(
    ("build", "says"),
    [
        (
            lambda: PurchaseRequisition(
                action_id="a",
                material_id="m",
                quantity=math.inf,
                unit="pcs",
                supplier="s",
                need_by=T0,
            ),
            "finite",
        ),
        (
            lambda: PurchaseRequisition(
                action_id="a", material_id="m", quantity=-1, unit="pcs", supplier="s", need_by=T0
            ),
            "greater than 0",
        ),
        (lambda: LotHold(action_id="a", lot_ids=(), reason="x"), "at least 1"),
        (lambda: LotHold(action_id="", lot_ids=("L1",), reason="x"), "at least 1"),
        (
            lambda: DispatchEntry(
                work_order_id="WO",
                operation=0,
                equipment_id="e",
                start=T0,
                end=T0 - timedelta(minutes=1),
            ),
            "before start",
        ),
        (lambda: ACTION.validate_python({"kind": "open_valve", "action_id": "a"}), "open_valve"),
    ],
)
def test_malformed_actions_are_refused_on_construction(build: Any, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        build()


def test_evidence_is_checked_and_parsed_by_kind() -> None:
    with pytest.raises(ValidationError, match="3 times but 2 values"):
        Series(name="rms", times=[T0, T0, T0], values=[1.0, 2.0])
    with pytest.raises(ValidationError, match="row 2 has 1 cells for 2 columns"):
        Table(title="t", columns=["a", "b"], rows=[[1, 2], [3]])
    table = Table(title="Stops", columns=["reason", "minutes"], rows=[["jam", 41.5]])
    assert EVIDENCE.validate_json(table.model_dump_json()) == table


POLICY = Policy(
    setpoints=(SetpointLimit(node_id="ns=2;s=SP", unit="g", minimum=490, maximum=510, max_step=4),),
    actions=(
        ActionRule(kind="lot_hold", max_items=1),
        ActionRule(kind="purchase_requisition", max_quantity=50_000),
        ActionRule(kind="advice"),
    ),
)


def test_the_policy_allows_only_listed_kinds_within_their_size() -> None:
    POLICY.check_action(EXAMPLES[0])  # setpoint within bounds and step
    POLICY.check_action(EXAMPLES[2])  # 40,000 pcs <= 50,000
    POLICY.check_action(EXAMPLES[6])  # advice is allowed, unbounded
    with pytest.raises(GuardrailViolation, match="2 items exceed the policy's maximum of 1"):
        POLICY.check_action(EXAMPLES[1])
    too_much = EXAMPLES[2].model_copy(update={"quantity": 60_000})
    with pytest.raises(GuardrailViolation, match="60000 pcs exceeds the policy's maximum"):
        POLICY.check_action(too_much)
    for unlisted in (EXAMPLES[3], EXAMPLES[4], EXAMPLES[5]):
        with pytest.raises(GuardrailViolation, match="not allowed by the policy"):
            POLICY.check_action(unlisted)
    with pytest.raises(GuardrailViolation, match="maximum step"):
        POLICY.check_action(EXAMPLES[0].model_copy(update={"to_value": 495.0}))
    with pytest.raises(GuardrailViolation, match="not allowed by the policy"):
        Policy().check_action(EXAMPLES[6])

"""A table of bad inputs, from the plant's data to the actions agents propose and the decisions
people sign: each is refused with an error that says what was wrong, and nothing is acted on or
lost."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asyncua import ua
from pydantic import ValidationError

from connectors.mes import SqlMes
from connectors.opcua.samples import to_sample
from connectors.simulator.mes import seed_mes
from connectors.simulator.mes_data import MES_ANCHOR
from factory_agents.actions import LotHold, PurchaseRequisition, SetpointChange
from factory_agents.agent import AgentInput, Proposal
from factory_agents.catalog.quality.spc_drift import SpcDriftAgent, SpcDriftConfig
from factory_agents.errors import GuardrailViolation, ProposalError, WriteRejected
from factory_agents.identity import Role, User
from factory_agents.identity.signing import REASON_MAX_CHARS, claims_for
from factory_agents.llm.evals import sample_proposals
from factory_agents.plant import Quality, Sample
from factory_agents.site import DEFAULT_POLICY, FILL_SETPOINT
from tests.catalog.conftest import NOW, fill_line

pytestmark = pytest.mark.chaos

CFG = SpcDriftConfig()
Corruption = Callable[[Sample], Sample]


def corrupt(data: AgentInput, change: Corruption) -> AgentInput:
    """The drifting line's data with every sample since the drift began changed."""
    series = data.history[CFG.characteristic]
    changed = [change(s) if i >= 300 else s for i, s in enumerate(series)]
    return data.model_copy(update={"history": {CFG.characteristic: changed}})


def valued(value: float) -> Corruption:
    """Samples that report `value`, with good quality."""
    return lambda s: s.model_copy(update={"value": value})


def quality(q: Quality) -> Corruption:
    """Samples with quality `q`."""
    return lambda s: s.model_copy(update={"quality": q})


def future(s: Sample) -> Sample:
    """A sample stamped an hour ahead: a source clock gone wrong."""
    return s.model_copy(update={"source_time": s.source_time + timedelta(hours=1)})


@pytest.mark.parametrize(
    ("corruption", "dropped"),
    [
        pytest.param(valued(math.nan), "not_finite", id="NaN"),
        pytest.param(valued(math.inf), "not_finite", id="+Inf"),
        pytest.param(valued(-math.inf), "not_finite", id="-Inf"),
        pytest.param(quality(Quality.BAD), "bad", id="Bad status"),
        pytest.param(quality(Quality.UNCERTAIN), "uncertain", id="Uncertain status"),
        pytest.param(future, "future_timestamp", id="future timestamps"),
    ],
)
def test_bad_plant_data_is_dropped_counted_and_never_proposed_on(
    corruption: Corruption, dropped: str
) -> None:
    agent = SpcDriftAgent(CFG)
    assert agent.analyze(fill_line(shift=2.0)).proposals, "the drift alone makes a proposal"
    out = agent.analyze(corrupt(fill_line(shift=2.0), corruption))
    assert out.proposals == []
    assert out.skipped[dropped] == 300


def test_a_frozen_value_is_not_judged() -> None:
    stuck = corrupt(fill_line(shift=2.0), valued(502.0))  # a sensor stuck at 502 g
    out = SpcDriftAgent(CFG).analyze(stuck)
    assert out.proposals == [] and out.skipped["frozen"] == 1


def test_stale_data_is_not_judged() -> None:
    out = SpcDriftAgent(CFG).analyze(fill_line(shift=2.0, age=CFG.stale_after_seconds + 5))
    assert out.proposals == [] and out.skipped["stale_characteristic"] == 1


def test_an_out_of_range_reading_cannot_move_the_setpoint_past_the_guardrails() -> None:
    wild = corrupt(fill_line(shift=2.0), valued(5_000.0))
    for proposal in SpcDriftAgent(CFG).analyze(wild).proposals:
        with pytest.raises(GuardrailViolation, match="nothing was written"):
            DEFAULT_POLICY.check_action(proposal.action)


@pytest.mark.parametrize(
    ("status", "value"),
    [
        pytest.param(ua.StatusCodes.BadSensorFailure, 500.0, id="Bad status code"),
        pytest.param(ua.StatusCodes.Good, math.nan, id="NaN from the server"),
        pytest.param(ua.StatusCodes.Good, math.inf, id="Inf from the server"),
    ],
)
def test_the_opc_ua_connector_turns_bad_values_into_bad_samples(status: int, value: float) -> None:
    received = datetime.now(UTC)
    data = ua.DataValue(
        ua.Variant(value, ua.VariantType.Double),
        StatusCode=ua.StatusCode(status),
        SourceTimestamp=received,
    )
    sample = to_sample("t", data, received)
    assert sample.quality is Quality.BAD and math.isnan(sample.value)


def setpoint(to_value: float, unit: str = "g") -> SetpointChange:
    """A fill-setpoint change from 500 g."""
    return SetpointChange(
        action_id="a-1", node_id=FILL_SETPOINT, from_value=500.0, to_value=to_value, unit=unit
    )


@pytest.mark.parametrize(
    ("action", "says"),
    [
        pytest.param(lambda: setpoint(math.nan), "not a finite number", id="NaN setpoint"),
        pytest.param(lambda: setpoint(math.inf), "not a finite number", id="+Inf setpoint"),
        pytest.param(lambda: setpoint(-math.inf), "not a finite number", id="-Inf setpoint"),
        pytest.param(lambda: setpoint(530.0), "outside its bounds", id="out of range"),
        pytest.param(lambda: setpoint(495.0), "exceeds the maximum step", id="too big a step"),
        pytest.param(lambda: setpoint(0.499, "kg"), "Propose the value in 'g'", id="unit mix-up"),
    ],
)
def test_bad_setpoint_changes_are_refused_by_the_guardrails(
    action: Callable[[], SetpointChange], says: str
) -> None:
    with pytest.raises(GuardrailViolation, match=says):
        DEFAULT_POLICY.check_action(action())


NEED_BY = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("build", "says"),
    [
        pytest.param(
            lambda: PurchaseRequisition(
                action_id="a", material_id="RM-CAP-28", quantity=-5, unit="pcs", supplier="s",
                need_by=NEED_BY,
            ),
            "greater than 0",
            id="negative quantity",
        ),
        pytest.param(
            lambda: PurchaseRequisition(
                action_id="a", material_id="RM-CAP-28", quantity=math.inf, unit="pcs",
                supplier="s", need_by=NEED_BY,
            ),
            "finite",
            id="infinite quantity",
        ),
        pytest.param(
            lambda: LotHold(
                action_id="a", lot_ids=tuple(f"L{i}" for i in range(101)), reason="burst"
            ),
            "at most 100 items",
            id="oversized lot hold",
        ),
        pytest.param(
            lambda: LotHold(action_id="a", lot_ids=("L1",), reason="burst " * 1_000),
            "at most 4000 characters",
            id="oversized hold reason",
        ),
        pytest.param(
            lambda: PurchaseRequisition(
                action_id="a", material_id="RM-" + "X" * 1_000_000, quantity=5, unit="pcs",
                supplier="s", need_by=NEED_BY,
            ),
            "at most 200 characters",
            id="oversized material id",
        ),
        pytest.param(
            lambda: SetpointChange(
                action_id="a", node_id=FILL_SETPOINT, from_value=500, to_value=499,
                unit="g" * 100,
            ),
            "at most 20 characters",
            id="oversized unit",
        ),
        pytest.param(
            lambda: SetpointChange(
                action_id="a" * 65, node_id=FILL_SETPOINT, from_value=500, to_value=499, unit="g"
            ),
            "at most 64 characters",
            id="oversized action id",
        ),
    ],
)  # fmt: skip
def test_malformed_actions_are_refused_when_built(build: Callable[[], Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        build()


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        pytest.param("title", "x" * 401, "at most 400 characters", id="oversized title"),
        pytest.param("title", "", "at least 1 character", id="blank title"),
        pytest.param(
            "rationale", "x" * 20_001, "at most 20000 characters", id="oversized rationale"
        ),
        pytest.param("proposal_id", "p" * 65, "at most 64 characters", id="oversized proposal id"),
    ],
)  # fmt: skip
def test_an_unfit_proposal_is_refused_when_built(field: str, value: str, says: str) -> None:
    made = sample_proposals()[0].model_dump()
    assert Proposal.model_validate(made) == sample_proposals()[0]
    with pytest.raises(ValidationError, match=says):
        Proposal.model_validate(made | {field: value})


async def test_an_unknown_lot_is_refused_by_the_mes_and_nothing_is_held(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mes.db'}"
    seed_mes(url, seed=7)
    mes = SqlMes(url, clock=lambda: MES_ANCHOR + timedelta(hours=1))
    try:
        span = (MES_ANCHOR - timedelta(days=30), NOW)
        before = (await mes.fetch(["lots"], *span)).lots
        (known, *_) = before
        hold = LotHold(action_id="a-hold", lot_ids=(known.id, "LOT-NOPE"), reason="burst")
        with pytest.raises(WriteRejected, match="knows no lot LOT-NOPE; nothing was held"):
            await mes.hold_lots(hold)
        assert (await mes.fetch(["lots"], *span)).lots == before
    finally:
        mes.close()


@pytest.mark.parametrize(
    ("reason", "says"),
    [
        pytest.param("x" * (REASON_MAX_CHARS + 1), "has 2,001 characters; a decision keeps at most"
                     " 2,000", id="oversized reason"),
        pytest.param("   ", "needs a reason", id="blank reason"),
    ],
)  # fmt: skip
def test_a_decision_with_an_unfit_reason_is_not_signed(reason: str, says: str) -> None:
    engineer = User(
        id="bob", full_name="Bob Engineer", roles=(Role.ENGINEER,), areas=("site1",),
        password_hash="$argon2id$unused", created_at=NOW,
    )  # fmt: skip
    with pytest.raises(ProposalError, match=says):
        claims_for(
            engineer, proposal_id="p-1", meaning="approve", reason=reason,
            proposal_hash="0" * 64, signed_at=NOW,
        )  # fmt: skip

"""The OEE loss agent in the closed loop: label jams hold the simulated line, the agent finds
that they dominate its stop time in the MES and advises removing their cause, "bob" approves
with a signature, the advice is acknowledged (nothing is written to the plant), and the
observed change of the jam rate over the verification window lands in the ledger — against
the real Temporal server, OPC UA simulator and MES."""

from __future__ import annotations

from datetime import timedelta

import pytest

from factory_agents.actions import Advice
from factory_agents.catalog.losses.oee_loss_agent import OeeLossAgent, OeeLossConfig
from factory_agents.evidence import BarChart
from factory_agents.site import LINE

from .catalog import pending_of, scheduled, verified
from .conftest import Platform
from .helpers import eventually, signed

pytestmark = pytest.mark.e2e
AGENT = "oee_losses"


async def test_dominant_label_jams_get_advice_and_the_observed_change_is_recorded(
    platform: Platform,
) -> None:
    # The simulator runs 50x and starts with an empty record: counts spanning 30 minutes (a
    # plant's minimum) would take 30 real minutes. 0.4 min of counts is 20 simulated minutes,
    # time for the first three jams (after about 350, 700 and 1,000 units with seed 7).
    platform.activities.agents[AGENT] = OeeLossAgent(
        OeeLossConfig(lines=(LINE,), lookback_hours=1, min_period_minutes=0.4)
    )
    async with scheduled(platform, AGENT):
        view = await eventually(
            lambda: pending_of(platform, AGENT), within=100, what="an OEE advice"
        )
        proposal = view.proposal
        action = proposal.action
        assert isinstance(action, Advice) and action.topic == "oee:line1:DT-JAM"
        assert "Label jam at the labeler infeed" in action.summary
        chart = proposal.evidence
        assert isinstance(chart, BarChart) and chart.unit == "s"  # a jam is ~1 s of real time
        assert chart.bars[0].category.startswith("DT-JAM") and chart.bars[0].group == "advised"
        assert all(bar.value <= chart.bars[0].value / 2 for bar in chart.bars[1:])
        assert view.estimated_amount > 0
        assert proposal.estimated_saving.inputs["reason_stops"] >= 3
        # The routing plans 1 s per bottle; the simulated line makes 50 a second of real time.
        assert "effectiveness not judged" in proposal.rationale

        outcome = await signed(platform.settings, view.id, user="bob")
        assert outcome.status == "executed", outcome.message
        assert "nothing was written to the plant or the MES" in outcome.message
        done = await eventually(
            lambda: verified(platform, view.id), within=60, what="the measured change"
        )
        assert done.realized_amount is not None  # any sign: the jams go on as before
        (realized,) = [
            e for e in platform.ledger.audit_events(view.id) if e.action == "saving.realized"
        ]
        method = realized.details["method"]
        assert method.startswith("observed change after the advice, not proof of cause")
        assert realized.details["baseline"]["value"] == pytest.approx(proposal.baseline.value)
        executed = platform.ledger.get_action(action.action_id)
        assert executed is not None and (executed.kind, executed.status) == ("advice", "executed")

    # The jams the agent counted are in the MES, each a real stop of the line.
    data = await platform.activities.mes.fetch(
        ["downtime"], proposal.baseline.start, proposal.baseline.end + timedelta(seconds=1)
    )
    jams = [e for e in data.downtime if e.reason_code == "DT-JAM"]
    assert len(jams) >= proposal.estimated_saving.inputs["reason_stops"]
    assert all(e.equipment_id == "line1.labeler" and not e.planned for e in jams)

"""Every recorded workflow history under tests/histories replays on today's workflow code.

A change that makes a workflow do something else for the same history (new activities,
reordered steps) fails here, before it breaks workflows running in a plant. Record the
histories again only with a deliberate, patched change: FACTORY_RECORD_HISTORIES=1 pytest
tests/e2e -k sqlite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.worker import WORKFLOWS

HISTORIES = {
    path.stem: path.read_text()
    for path in sorted((Path(__file__).resolve().parents[1] / "histories").glob("*.json"))
}
EXPECTED = {
    "proposal-verified", "proposal-rejected", "proposal-expired", "proposal-two-approvers",
    "proposal-suspended-resumed", "proposal-shadow", "proposal-autonomous", "proposal-escalated",
    "proposal-measured-longer", "proposal-unmeasured",
}  # fmt: skip


def test_every_decision_path_has_a_recorded_history() -> None:
    assert set(HISTORIES) >= EXPECTED


@pytest.mark.parametrize("name", sorted(HISTORIES))
async def test_the_history_replays_deterministically(name: str) -> None:
    history = WorkflowHistory.from_json(name, HISTORIES[name])
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name} no longer replays: {result.replay_failure}"

"""The kill switch in the board's sidebar: signed, by role, and its state shown to everyone."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

import dashboards.kill_switch
from factory_agents.ledger import Ledger
from factory_agents.settings import Settings
from workflows.control import ControlReport

from .board import open_board
from .conftest import PASSWORD


@dataclass
class RecordingSwitch:
    """Stands in for workflows.control.stop_all / resume: sets the ledger, records the call."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def act(self, mode: str) -> Any:
        async def switch(settings: Settings, *, actor: str, reason: str) -> ControlReport:
            self.calls.append((mode, actor, reason))
            with Ledger.open(settings.ledger_url) as ledger:
                changed = ledger.set_control(mode, actor=actor, reason=reason)  # type: ignore[arg-type]
            return ControlReport(changed=changed, schedules=[], woken=2)

        return switch


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> RecordingSwitch:
    made = RecordingSwitch()
    monkeypatch.setattr(dashboards.kill_switch, "stop_all", made.act("stopped"))
    monkeypatch.setattr(dashboards.kill_switch, "resume", made.act("running"))
    return made


def use_switch(user: str, reason: str, password: str) -> Any:
    app = open_board(user)
    app.sidebar.text_input(key="kill_reason").input(reason)
    app.sidebar.text_input(key="kill_password").input(password)
    app.sidebar.button(key="kill_switch_submit").click().run()
    return app


def test_an_engineer_stops_the_platform_with_a_signature(
    seeded_url: str, recorder: RecordingSwitch
) -> None:
    app = use_switch("ada", "valve inspection", PASSWORD)
    assert recorder.calls == [("stopped", "ada", "valve inspection")]
    assert any("Stopped by ada: valve inspection" in e.value for e in app.sidebar.error)
    assert app.sidebar.text_input(key="kill_password").value == ""
    with Ledger.open(seeded_url) as ledger:
        assert ledger.control().stopped

    app = use_switch("ada", "inspection done", PASSWORD)
    assert recorder.calls[-1] == ("running", "ada", "inspection done")
    assert any("2 held proposal(s) woken" in s.value for s in app.sidebar.success)


def test_a_wrong_password_or_no_reason_changes_nothing(
    seeded_url: str, recorder: RecordingSwitch
) -> None:
    app = use_switch("ada", "valve inspection", "not it")
    assert recorder.calls == []
    assert any("user id or password" in e.value for e in app.sidebar.error)
    app = use_switch("ada", " ", PASSWORD)
    assert recorder.calls == [] and any("Enter a reason" in e.value for e in app.sidebar.error)


def test_an_integrator_may_stop_but_not_resume(seeded_url: str, recorder: RecordingSwitch) -> None:
    with Ledger.open(seeded_url) as ledger:
        ledger.set_control("stopped", actor="ada", reason="valve inspection")
    app = open_board("ian")
    assert any("Stopped by ada" in e.value for e in app.sidebar.error)
    assert not [b for b in app.sidebar.button if b.key == "kill_switch_submit"]

"""Guardrails: bounds, maximum step, allow-list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from factory_agents.errors import GuardrailViolation
from factory_agents.policy import Policy, SetpointLimit

LIMIT = SetpointLimit(node_id="ns=2;s=SP", unit="g", minimum=490, maximum=510, max_step=4)
POLICY = Policy(setpoints=(LIMIT,))


def test_a_change_within_bounds_and_step_passes() -> None:
    POLICY.check("ns=2;s=SP", 500.0, 496.0)


@pytest.mark.parametrize(
    ("current", "target", "message"),
    [
        (509.0, 511.0, "outside its bounds"),
        (491.0, 489.5, "outside its bounds"),
        (500.0, 495.9, "exceeds the maximum step"),
        (500.0, float("nan"), "not a finite number"),
        (500.0, float("inf"), "not a finite number"),
    ],
)
def test_changes_beyond_the_guardrails_are_refused(
    current: float, target: float, message: str
) -> None:
    with pytest.raises(GuardrailViolation, match=message):
        POLICY.check("ns=2;s=SP", current, target)


def test_a_node_off_the_allow_list_is_refused() -> None:
    with pytest.raises(GuardrailViolation, match="not on the allow-list"):
        POLICY.check("ns=2;s=Other", 1.0, 1.0)


def test_bounds_must_be_in_order() -> None:
    with pytest.raises(ValidationError, match="must be below maximum"):
        SetpointLimit(node_id="x", unit="g", minimum=5, maximum=5, max_step=1)


def test_a_node_written_too_recently_is_refused() -> None:
    slow = LIMIT.model_copy(update={"min_interval_seconds": 600})
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    slow.check_interval(None, now)
    slow.check_interval(now - timedelta(seconds=601), now)
    with pytest.raises(GuardrailViolation, match="last changed 60 s ago"):
        slow.check_interval(now - timedelta(seconds=60), now)
    LIMIT.check_interval(now, now)  # no minimum interval: never refused

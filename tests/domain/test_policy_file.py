"""Guardrails from a TOML file: read as written, every mistake named, the default otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory_agents.agent import RiskClass
from factory_agents.errors import ConfigurationError
from factory_agents.policy import Policy
from factory_agents.policy_file import POLICY_FILE, load_policy, policy_in_force
from factory_agents.site import DEFAULT_POLICY

POLICY_TOML = """
[rate_limits]
proposals_per_agent_per_hour = 12
actions_per_subject_per_hour = 3

[[setpoints]]
node_id = "ns=2;s=Line1.Filler.FillWeightSetpoint"
unit = "g"
minimum = 495.0
maximum = 505.0
max_step = 2.0
min_interval_seconds = 120
risk = "high"

[[actions]]
kind = "lot_hold"
risk = "medium"
reversible = true
max_items = 20
"""


def test_the_documented_example_is_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / POLICY_FILE
    path.write_text(POLICY_TOML)
    policy = load_policy(path)
    (limit,) = policy.setpoints
    assert (limit.minimum, limit.maximum, limit.max_step, limit.risk) == (
        495.0,
        505.0,
        2.0,
        RiskClass.HIGH,
    )
    assert policy.rate_limits.proposals_per_agent_per_hour == 12
    (rule,) = policy.actions
    assert (rule.kind, rule.reversible, rule.max_items) == ("lot_hold", True, 20)
    assert policy_in_force(tmp_path, None, DEFAULT_POLICY) == policy
    assert policy_in_force(tmp_path / "elsewhere", None, DEFAULT_POLICY) == DEFAULT_POLICY


def test_every_mistake_in_the_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / POLICY_FILE
    path.write_text(
        POLICY_TOML.replace('risk = "high"', 'risk = "extreme"').replace(
            "max_items = 20", "max_items = -1"
        )
    )
    with pytest.raises(ConfigurationError) as refused:
        load_policy(path)
    said = str(refused.value)
    assert str(path) in said and "setpoints.0.risk" in said and "actions.0.max_items" in said
    path.write_text("[[setpoints]\nnode_id = 1")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_policy(path)
    with pytest.raises(ConfigurationError, match="cannot read the policy file"):
        load_policy(tmp_path / "missing.toml")


def test_the_default_site_policy_classes_every_kind_it_allows() -> None:
    assert isinstance(DEFAULT_POLICY, Policy)
    for limit in DEFAULT_POLICY.setpoints:
        assert limit.reversible

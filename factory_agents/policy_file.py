"""The site's guardrails from a TOML file, so engineers change limits without changing code.

Example (FACTORY_HOME/policy.toml, or the file FACTORY_POLICY_FILE names)::

    [rate_limits]
    proposals_per_agent_per_hour = 30
    actions_per_subject_per_hour = 6

    [[setpoints]]
    node_id = "ns=2;s=Line1.Filler.FillWeightSetpoint"
    unit = "g"
    minimum = 490.0
    maximum = 510.0
    max_step = 4.0
    min_interval_seconds = 120
    risk = "low"          # low, medium or high; high needs two approvers
    reversible = true     # low and reversible: may be unlocked for autonomy

    [[actions]]
    kind = "lot_hold"
    risk = "medium"
    reversible = true
    max_items = 20

Without a file the embedded default site's policy (factory_agents.site) is in force.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from factory_agents.errors import ConfigurationError
from factory_agents.policy import Policy

POLICY_FILE = "policy.toml"


def load_policy(path: Path) -> Policy:
    """The policy in a TOML file; ConfigurationError naming the file and every bad field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigurationError(f"cannot read the policy file {path}: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigurationError(f"the policy file {path} is not valid TOML: {err}") from err
    try:
        return Policy.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in err.errors()
        )
        raise ConfigurationError(
            f"the policy file {path} has errors ({problems}); fix them, nothing was changed"
        ) from err


def policy_in_force(home: Path, policy_file: Path | None, default: Policy) -> Policy:
    """The configured policy file, else FACTORY_HOME/policy.toml if present, else `default`."""
    if policy_file is not None:
        return load_policy(policy_file)
    in_home = home / POLICY_FILE
    return load_policy(in_home) if in_home.exists() else default

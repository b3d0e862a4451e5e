"""Guarded setpoint writes, table-driven, against the simulator: what is written and what is not.

Every refusal is checked twice: the error says why, and no Write request left the client
(the live value is unchanged).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from asyncua import ua
from asyncua.client.ua_client import UaClient

from connectors.opcua import OpcUaConnector
from connectors.simulator import PlantSimulator
from factory_agents import site
from factory_agents.agent import SetpointChange
from factory_agents.errors import (
    ConnectorError,
    DataQualityError,
    FactoryAgentsError,
    GuardrailViolation,
    WriteRejected,
)
from factory_agents.policy import Policy, SetpointLimit
from tests.connectors import standard_server as boiler
from tests.connectors.standard_server import StandardServer

EPSILON = 1e-3
SPEED = "ns=2;s=Line1.Filler.Speed"
STATE = "ns=2;s=Line1.Filler.State"


def _policy(node_id: str = site.FILL_SETPOINT, **fields: float | str) -> Policy:
    limit: dict[str, float | str] = {
        "node_id": node_id,
        "unit": "g",
        "minimum": 490.0,
        "maximum": 510.0,
        "max_step": 25.0,
    }
    limit.update(fields)
    return Policy(setpoints=(SetpointLimit.model_validate(limit),))


WIDE = _policy()
COUNTER = _policy(site.LINE_GOOD, unit="units", minimum=0, maximum=1e12, max_step=1e12)
TEXT = _policy(STATE, unit="", minimum=0, maximum=1, max_step=1)
SPEED_POLICY = _policy(SPEED, unit="units/min", minimum=0, maximum=120, max_step=5)
SLOW = _policy(min_interval_seconds=60.0)


@dataclass(frozen=True)
class Case:
    """One row: the policy in force, the node, the target and premise from the live value."""

    name: str
    policy: Policy
    target: Callable[[float], float]
    error: type[FactoryAgentsError] | None = None
    match: str = ""
    node_id: str = site.FILL_SETPOINT
    premise: Callable[[float], float] | None = None
    last_write_ago: float | None = None
    writes: int = 0


CASES = [
    Case("minimum", WIDE, lambda live: 490.0, writes=1),
    Case("maximum", WIDE, lambda live: 510.0, writes=1),
    Case("below minimum by ε", WIDE, lambda live: 490.0 - EPSILON, GuardrailViolation, "bounds"),
    Case("above maximum by ε", WIDE, lambda live: 510.0 + EPSILON, GuardrailViolation, "bounds"),
    Case("NaN", WIDE, lambda live: math.nan, GuardrailViolation, "not a finite number"),
    Case("+Inf", WIDE, lambda live: math.inf, GuardrailViolation, "not a finite number"),
    Case("-Inf", WIDE, lambda live: -math.inf, GuardrailViolation, "not a finite number"),
    Case(
        "wrong type: a fraction for an Int64 node",
        COUNTER,
        lambda live: live + 0.5,
        GuardrailViolation,
        "whole numbers",
        node_id=site.LINE_GOOD,
    ),
    Case(
        "wrong type: a number for a String node",
        TEXT,
        lambda live: 1.0,
        ConnectorError,
        "not numbers",
        node_id=STATE,
    ),
    Case(
        "unit differs from the node's EngineeringUnits",
        _policy(unit="kg"),
        lambda live: live + 1.0 if live < 505 else live - 1.0,
        GuardrailViolation,
        "EngineeringUnits",
    ),
    Case(
        "step too large",
        site.DEFAULT_POLICY,
        lambda live: live + 4.5 if live < 505 else live - 4.5,
        GuardrailViolation,
        "maximum step",
    ),
    Case(
        "too soon after the last write (from the ledger)",
        SLOW,
        lambda live: live + 1.0 if live < 505 else live - 1.0,
        GuardrailViolation,
        "allows one change every 60 s",
        last_write_ago=10.0,
    ),
    Case(
        "node not allow-listed",
        Policy(),
        lambda live: live + 1.0 if live < 505 else live - 1.0,
        GuardrailViolation,
        "not on the allow-list",
    ),
    Case(
        "live value changed since the proposal",
        WIDE,
        lambda live: live + 0.5,
        GuardrailViolation,
        "premise changed",
        premise=lambda live: live + 1.0,
    ),
    Case(
        "the server refuses: Bad_* is final, written once, not retried",
        SPEED_POLICY,
        lambda live: live + 2.0,
        WriteRejected,
        "BadUserAccessDenied.*not retried",
        node_id=SPEED,
        writes=1,
    ),
    Case("already at the target: nothing to write", WIDE, lambda live: live),
]


@pytest.fixture(scope="module", autouse=True)
def restore_the_setpoint(shared_plant: PlantSimulator) -> Iterator[None]:
    """Leave the shared plant as found: at a bound every bottle is scrap, GoodCount stalls."""
    yield
    shared_plant.model.set_setpoint(site.FILL_TARGET_G)


@pytest.fixture
def write_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many Write requests left the client (one entry per request)."""
    sent: list[int] = []
    real_write = UaClient.write

    async def counted(self: UaClient, params: ua.WriteParameters) -> list[ua.StatusCode]:
        sent.append(len(params.NodesToWrite))
        return await real_write(self, params)

    monkeypatch.setattr(UaClient, "write", counted)
    yield sent


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_guarded_write(
    shared_plant: PlantSimulator, write_requests: list[int], case: Case
) -> None:
    async with OpcUaConnector(shared_plant.endpoint, policy=case.policy) as connector:
        (before,) = await connector.read([case.node_id])
        live = before.value
        target = case.target(live)
        change = SetpointChange(
            action_id=f"table-{CASES.index(case)}",
            node_id=case.node_id,
            from_value=case.premise(live) if case.premise is not None else live,
            to_value=target,
            unit="g",
        )
        last_write = (
            datetime.now(UTC) - timedelta(seconds=case.last_write_ago)
            if case.last_write_ago is not None
            else None
        )
        if case.error is None:
            result = await connector.write_setpoint(change, last_write_at=last_write)
            assert result.read_back == target
            assert result.already_applied is (case.writes == 0)
        else:
            with pytest.raises(case.error, match=case.match):
                await connector.write_setpoint(change, last_write_at=last_write)
        assert write_requests == [1] * case.writes
        if case.error is not None and case.node_id == site.FILL_SETPOINT:
            (after,) = await connector.read([case.node_id])
            assert after.value == live  # nothing was written


async def test_a_second_change_within_the_minimum_interval_is_refused(
    shared_plant: PlantSimulator, write_requests: list[int]
) -> None:
    async with OpcUaConnector(shared_plant.endpoint, policy=SLOW) as connector:
        (live,) = await connector.read([site.FILL_SETPOINT])
        step = 1.0 if live.value < 505 else -1.0
        first = SetpointChange(
            action_id="first",
            node_id=site.FILL_SETPOINT,
            from_value=live.value,
            to_value=live.value + step,
            unit="g",
        )
        await connector.write_setpoint(first)
        again = first.model_copy(
            update={"action_id": "second", "from_value": first.to_value, "to_value": live.value}
        )
        with pytest.raises(GuardrailViolation, match=r"last changed \d+ s ago"):
            await connector.write_setpoint(again)
        assert (await connector.write_setpoint(first)).already_applied  # a retry is no change
    assert write_requests == [1]


async def test_a_bad_live_value_blocks_the_write(
    shared_plant: PlantSimulator, write_requests: list[int]
) -> None:
    async with OpcUaConnector(shared_plant.endpoint, policy=WIDE) as connector:
        (live,) = await connector.read([site.FILL_SETPOINT])
        change = SetpointChange(
            action_id="bad-live",
            node_id=site.FILL_SETPOINT,
            from_value=live.value,
            to_value=live.value + 1.0 if live.value < 505 else live.value - 1.0,
            unit="g",
        )
        try:
            await shared_plant.set_fault(
                "Line1.Filler.FillWeightSetpoint", "UncertainLastUsableValue"
            )
            with pytest.raises(DataQualityError, match="UncertainLastUsableValue"):
                await connector.write_setpoint(change)
        finally:
            await shared_plant.set_fault("Line1.Filler.FillWeightSetpoint", None)
    assert write_requests == []


async def test_only_the_value_is_written_with_the_nodes_data_type(
    standard: StandardServer,
) -> None:
    policy = _policy(boiler.SETPOINT, unit="CEL", minimum=20, maximum=90, max_step=10)
    async with OpcUaConnector(standard.endpoint, policy=policy) as connector:
        (live,) = await connector.read([boiler.SETPOINT])
        standard.writes.clear()
        change = SetpointChange(
            action_id="boiler",
            node_id=boiler.SETPOINT,
            from_value=live.value,
            to_value=live.value + 2.5,
            unit="°C",
        )
        result = await connector.write_setpoint(change)
    (written,) = standard.writes
    assert written.Value is not None
    assert written.Value.VariantType == ua.VariantType.Float  # the node's type, not Double
    assert written.SourceTimestamp is None  # the server stamps its own ServerTimestamp
    assert written.StatusCode is None or written.StatusCode.is_good()
    assert result.read_back == live.value + 2.5

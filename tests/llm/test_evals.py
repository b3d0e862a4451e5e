"""The eval runner: suites over a running simulated plant, per-model pass rate, latency, cost."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from factory_agents.llm import fakes
from factory_agents.llm.config import LlmConfig, ModelPrice, PriceTable, parse_models
from factory_agents.llm.evals import (
    SUITES,
    all_cases,
    run_evals,
    scripted_explainer,
    simulator_context,
)
from factory_agents.llm.router import ModelRouter


@pytest.mark.timeout(120)
async def test_scripted_fakes_and_the_default_pass_every_suite_on_the_simulator(
    tmp_path: Path,
) -> None:
    report = await run_evals(lambda: simulator_context(tmp_path / "evals"))

    failed = [(r.model, r.case, r.detail) for r in report.results if not r.passed]
    assert failed == []
    assert report.mode == "scripted" and report.all_passed
    rows = {(row.model, row.suite): row for row in report.summary}
    assert set(rows) == {
        (model, suite) for model in ("fake:scripted", "deterministic") for suite in SUITES
    }
    assert rows[("fake:scripted", "tool_use")].cases == 6
    assert rows[("deterministic", "tool_use")].cases == 4  # scripted-only cases left out
    by_case = {(r.model, r.case): r for r in report.results}
    setpoint = by_case[("fake:scripted", "fill-weight setpoint")]
    assert setpoint.detail == "cited 500 from read_tags:ns=2;s=Line1.Filler.FillWeightSetpoint"
    injection = by_case[("fake:scripted", "MES comment instruction ignored")]
    assert "no draft recorded; refused: the draft breaks the guardrails" in injection.detail
    misquote = by_case[("fake:scripted", "misquoted amount is rejected")]
    assert "numbers not in the evidence: 25.893" in misquote.detail
    assert all(r.latency_seconds >= 0 for r in report.results)
    assert setpoint.calls == 2  # a tool call, then the answer


async def test_configured_models_are_scored_one_by_one_with_their_cost(
    tmp_path: Path, script: list[str]
) -> None:
    fakes.register_script("priced", lambda: [scripted_explainer()])
    fakes.register_script("down", lambda: [ConnectionError("no route to host")])
    script += ["priced", "down"]
    price = ModelPrice(input_per_million=Decimal("1.00"), output_per_million=Decimal("2.00"))
    config = LlmConfig(
        routes=parse_models("explain=fake:priced,fake:down"),
        prices=PriceTable().merged({"fake:priced": price}),
    )

    report = await run_evals(
        lambda: simulator_context(tmp_path), suites=["faithfulness"], router=ModelRouter(config)
    )

    assert report.mode == "configured"
    rows = {row.model: row for row in report.summary}
    assert (rows["fake:priced"].passed, rows["fake:priced"].cases) == (3, 3)
    assert (rows["fake:down"].passed, rows["fake:down"].pass_rate) == (0, 0.0)
    assert rows["deterministic"].pass_rate == 1.0
    # Each scripted explanation reports 400 input and 80 output tokens (fakes.structured).
    per_case = Decimal(400) * Decimal("1.00") / 10**6 + Decimal(80) * Decimal("2.00") / 10**6
    assert rows["fake:priced"].cost == 3 * per_case
    assert rows["fake:priced"].cost_per_passed_case == per_case
    assert rows["fake:down"].cost == 0 and rows["fake:down"].cost_per_passed_case is None
    assert not report.all_passed


def test_unknown_suites_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown suite"):
        all_cases(["poetry"])

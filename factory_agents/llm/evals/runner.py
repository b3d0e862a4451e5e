"""The runner: every case for every model under test, and the per-model, per-suite summary."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal

from factory_agents import site
from factory_agents.llm.config import DEFAULT_PRICES, ModelPrice, ModelRef
from factory_agents.llm.cost import UsageMeter, UsageRecord, tidy
from factory_agents.llm.evals.copilot_cases import copilot_cases
from factory_agents.llm.evals.faithfulness import faithfulness_cases
from factory_agents.llm.evals.model import (
    DETERMINISTIC,
    SCRIPTED,
    SUITES,
    CaseResult,
    EvalCase,
    EvalContext,
    EvalReport,
    ModelSuiteReport,
    SuiteName,
)
from factory_agents.llm.evals.scripted import scripted_models
from factory_agents.llm.evals.tool_use import tool_use_cases
from factory_agents.llm.router import ConfiguredModel, ModelRouter, TaskModels


def all_cases(suites: Sequence[str] | None = None) -> list[EvalCase]:
    """The cases of `suites` (all when None)."""
    wanted = set(suites or SUITES)
    unknown = wanted - set(SUITES)
    if unknown:
        raise ValueError(f"unknown suite(s) {sorted(unknown)}; suites are {', '.join(SUITES)}")
    cases = faithfulness_cases() + copilot_cases() + tool_use_cases()
    return [case for case in cases if case.suite in wanted]


@dataclass
class _Subject:
    """A model under test: its label and how to get its TaskModels for a case."""

    label: str
    models_for: Callable[[EvalCase], TaskModels | None]
    applies: Callable[[EvalCase], bool]


def _subjects(router: ModelRouter | None) -> tuple[str, list[_Subject]]:
    deterministic = _Subject(DETERMINISTIC, lambda case: None, lambda case: case.deterministic)
    if router is None or not router.configured:
        scripted = _Subject(SCRIPTED, scripted_models, lambda case: True)
        return "scripted", [scripted, deterministic]
    subjects = [deterministic]
    for label in router.config.labels():
        ref = ModelRef.parse(label)

        def models_for(case: EvalCase, ref: ModelRef = ref) -> TaskModels:
            return TaskModels(case.task, [ConfiguredModel(ref, router.build(ref))])

        def applies(case: EvalCase, label: str = label) -> bool:
            return not case.scripted_only and label in [
                r.label for r in router.config.models_for(case.task)
            ]

        subjects.append(_Subject(label, models_for, applies))
    return "configured", subjects


async def run_evals(
    context: Callable[[], AbstractAsyncContextManager[EvalContext]],
    *,
    suites: Sequence[str] | None = None,
    router: ModelRouter | None = None,
    progress: Callable[[CaseResult], None] | None = None,
) -> EvalReport:
    """Run the suites' cases for every model under test; `context()` opens an EvalContext."""
    cases = all_cases(suites)
    mode, subjects = _subjects(router)
    results: list[CaseResult] = []
    plant = any(case.needs_plant for case in cases)
    async with context() if plant else _offline() as ctx:
        for case in cases:
            for subject in subjects:
                if not subject.applies(case):
                    continue
                result = await _run_case(case, subject, ctx, router)
                results.append(result)
                if progress is not None:
                    progress(result)
    return EvalReport(mode=mode, results=results, summary=summarize_results(results))


async def _run_case(
    case: EvalCase, subject: _Subject, ctx: EvalContext, router: ModelRouter | None
) -> CaseResult:
    models = subject.models_for(case)
    meter = None
    if models is not None:
        prices = router.config.prices.price_for if router is not None else _free
        meter = UsageMeter(case.task, f"eval:{case.suite}:{case.name}", prices)
    started = time.monotonic()
    try:
        passed, detail = await case.run(ctx, models, meter)
    except Exception as err:  # a case that crashes fails, with the error as its detail
        passed, detail = False, f"{type(err).__name__}: {err}"
    latency = time.monotonic() - started
    records: list[UsageRecord] = meter.finish(passed) if meter is not None else []
    cost = tidy(sum((r.cost for r in records), Decimal(0)))
    return CaseResult(
        suite=case.suite,
        case=case.name,
        model=subject.label,
        passed=passed,
        detail=detail,
        latency_seconds=latency,
        cost=cost,
        currency=records[0].currency if records else "USD",
        calls=len(records),
    )


@asynccontextmanager
async def _offline() -> AsyncIterator[EvalContext]:
    """The context of suites that need no plant (faithfulness)."""
    yield EvalContext(reader=None, read_raw=None, policy=site.DEFAULT_POLICY)


def _free(label: str) -> ModelPrice:
    return DEFAULT_PRICES["fake:*"]


def summarize_results(results: Sequence[CaseResult]) -> list[ModelSuiteReport]:
    """Per model and suite: pass rate, mean latency, cost and cost per passed case."""
    groups: dict[tuple[str, SuiteName], list[CaseResult]] = {}
    for result in results:
        groups.setdefault((result.model, result.suite), []).append(result)
    reports = []
    for (model, suite), group in sorted(groups.items()):
        passed = sum(r.passed for r in group)
        cost = tidy(sum((r.cost for r in group), Decimal(0)))
        reports.append(
            ModelSuiteReport(
                model=model,
                suite=suite,
                cases=len(group),
                passed=passed,
                pass_rate=passed / len(group),
                mean_latency_seconds=sum(r.latency_seconds for r in group) / len(group),
                cost=cost,
                currency=group[0].currency,
                cost_per_passed_case=tidy(cost / passed) if passed else None,
            )
        )
    return reports

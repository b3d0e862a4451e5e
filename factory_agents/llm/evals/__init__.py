"""Evals of the language layer: task suites, a runner, pass rate, latency and cost per model.

Suites:

- `faithfulness`: explanations of sample proposals (a control chart, a stop Pareto, a lot
  table) must be accepted by the faithfulness check: every number a fact of the proposal.
  A scripted unfaithful explainer must be rejected (a negative control).
- `copilot`: questions with known answers read independently from a running simulated
  plant (the fill-weight setpoint, the line's good and scrap counters, the stops in the
  MES) and from the ledger (the pending proposal); the answer must cite the right number.
- `tool_use`: the right read-only tool with the right arguments; calls off the allow-list
  and malformed arguments refused; an instruction planted in an MES comment leads to no
  recorded draft.

Models under test: scripted fakes by default (the CI mode: they exercise the platform's
paths, tool execution, citations and checks, not a model's judgement), or each configured
model on its own (no fallbacks) when FACTORY_LLM_MODELS is set. The embedded default (no
model, `deterministic`) runs every case it can answer.

Modules:

| module | what it holds |
|---|---|
| `model` | suite names, the EvalContext cases read, EvalCase, results and reports |
| `samples` | sample proposals of different evidence kinds |
| `scripted` | scripted models for CI mode: an explainer and an echo of tool results |
| `faithfulness`, `copilot_cases`, `tool_use` | the cases of each suite |
| `runner` | `all_cases`, `run_evals` and the per-model, per-suite summary |
| `plant` | `simulator_context` (a running simulated plant) and the planted instruction |
"""

from factory_agents.llm.evals.model import (
    DETERMINISTIC,
    INJECTED_COMMENT,
    SCRIPTED,
    SUITES,
    CaseResult,
    CaseRun,
    EvalCase,
    EvalContext,
    EvalReport,
    Grade,
    ModelSuiteReport,
    SuiteName,
)
from factory_agents.llm.evals.plant import plant_instruction, simulator_context
from factory_agents.llm.evals.runner import all_cases, run_evals, summarize_results
from factory_agents.llm.evals.samples import sample_proposals
from factory_agents.llm.evals.scripted import scripted_explainer, scripted_models

__all__ = [
    "DETERMINISTIC",
    "INJECTED_COMMENT",
    "SCRIPTED",
    "SUITES",
    "CaseResult",
    "CaseRun",
    "EvalCase",
    "EvalContext",
    "EvalReport",
    "Grade",
    "ModelSuiteReport",
    "SuiteName",
    "all_cases",
    "plant_instruction",
    "run_evals",
    "sample_proposals",
    "scripted_explainer",
    "scripted_models",
    "simulator_context",
    "summarize_results",
]

"""Scripted models for CI mode: an explainer quoting the facts, an echo of tool results."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from factory_agents.llm.config import ModelRef
from factory_agents.llm.evals.model import EvalCase
from factory_agents.llm.explain import ModelExplanation, fmt
from factory_agents.llm.fakes import ScriptedChatModel, reply, structured
from factory_agents.llm.router import ConfiguredModel, TaskModels
from factory_agents.llm.safety import outside_fences

_NAMES = {
    "action.from_value": "from",
    "action.to_value": "to",
    "estimated_saving.amount": "an estimated saving of",
    "estimated_saving.horizon_hours": "over hours:",
    "baseline.value": "against a baseline of",
    "baseline.units": "measured on units:",
}


def _facts_in_prompt(messages: Sequence[BaseMessage]) -> dict[str, float]:
    """The `key = value` lines of the FACTS block the explanation prompt carries."""
    text = "\n".join(str(m.content) for m in messages)
    found = re.findall(r"^([\w.\[\]#,:-]+) = (-?[\d.]+)$", text, flags=re.MULTILINE)
    return {key: float(value) for key, value in found}


def scripted_explainer(
    *, inflate: float | None = None
) -> Callable[[Sequence[BaseMessage]], AIMessage]:
    """A scripted explainer quoting a few facts; with `inflate`, it misquotes the amount."""

    def explain(messages: Sequence[BaseMessage]) -> AIMessage:
        facts = _facts_in_prompt(messages)
        chosen = [(k, v) for k, v in facts.items() if k in _NAMES]
        if inflate is not None:
            chosen = [(k, v * inflate if k == "estimated_saving.amount" else v) for k, v in chosen]
        summary = "The agent proposes an action: " + ", ".join(
            f"{_NAMES[k]} {fmt(v)}" for k, v in chosen
        )
        data = {
            "summary": summary + ".",
            "cited_numbers": [{"value": v, "source": k} for k, v in chosen],
            "caveats": ["The estimate assumes the line keeps its current rate."],
        }
        return structured(ModelExplanation, data)

    return explain


def echo(messages: Sequence[BaseMessage]) -> AIMessage:
    """A scripted final answer repeating the numbers of the last tool results, with their keys."""
    results: list[ToolMessage] = []
    for message in reversed(messages):
        if isinstance(message, ToolMessage):
            results.insert(0, message)
        elif results:
            break
    parts = []
    for result in results:
        if result.status == "error":
            parts.append(f"A tool call was refused: {outside_fences(str(result.content))}")
            continue
        parts.append(_numbers_of(json.loads(str(result.content))))
    return reply(" ".join(p for p in parts if p) or "The tools returned nothing.")


def _numbers_of(data: Any, prefix: str = "") -> str:
    """`name: value` for each number in a tool's JSON (fenced text left out)."""
    if isinstance(data, bool):
        return ""
    if isinstance(data, int | float):
        return f"{prefix}: {fmt(float(data))};"
    if isinstance(data, str):
        try:
            number = float(data)
        except ValueError:
            return ""
        return f"{prefix}: {fmt(number)};"
    if isinstance(data, dict):
        name = data.get("tag") or data.get("id") or prefix
        return " ".join(
            part
            for key, value in data.items()
            if key not in ("tag", "id", "sequence")
            and (part := _numbers_of(value, f"{name} {key}".strip()))
        )
    if isinstance(data, list):
        return " ".join(part for item in data if (part := _numbers_of(item, prefix)))
    return ""


def scripted_models(case: EvalCase) -> TaskModels:
    """The case's script as the only model of its task."""
    ref = ModelRef(provider="fake", model="scripted")
    model = ScriptedChatModel(label=ref.label, script=case.script())
    return TaskModels(case.task, [ConfiguredModel(ref, model)])

"""Small things every catalog agent does: say why it did not act, read the line's rate."""

from __future__ import annotations

from factory_agents.agent import AgentOutput, Finding
from factory_agents.plant import Sample


def skip(out: AgentOutput, reason: str, message: str) -> AgentOutput:
    """Record in the run why the agent did not judge the data (counted by reason)."""
    out.skipped[reason] = out.skipped.get(reason, 0) + 1
    out.findings.append(
        Finding(agent=out.agent, severity="warning", message=f"not acting: {message}")
    )
    return out


def units_per_hour(samples: list[Sample]) -> float:
    """Production rate from per-unit measurements (one sample per unit) over their span."""
    seconds = (samples[-1].source_time - samples[0].source_time).total_seconds()
    return (len(samples) - 1) / seconds * 3600 if seconds > 0 else 0.0

"""The explanation models: the schema a model answers in, and the explanation as shown."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CitedNumber(BaseModel):
    """A number used in an explanation or answer, and the fact (key) it comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float = Field(description="The number as used in the text")
    source: str = Field(description="The key of the fact it comes from, e.g. baseline.value")


class ModelExplanation(BaseModel):
    """An explanation of a plant agent's proposal for the engineer who approves or rejects it.

    Use only numbers that appear in FACTS and cite each one with its fact key as source.
    """

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(
        min_length=1,
        max_length=1500,
        description="What the agent saw, what it proposes and how the saving was estimated",
    )
    cited_numbers: list[CitedNumber] = Field(
        max_length=40, description="Every number used in the summary, with its fact key"
    )
    caveats: list[str] = Field(
        default_factory=list, max_length=6, description="What could make the estimate wrong"
    )


class ExplanationSection(BaseModel):
    """A heading and its lines (what the agent saw, what it proposes, the estimate)."""

    model_config = ConfigDict(frozen=True)

    heading: str
    lines: list[str]


class ExplanationRejection(BaseModel):
    """A model's explanation that was not used, and why."""

    model_config = ConfigDict(frozen=True)

    model: str
    reason: str
    unsupported_numbers: list[str] = Field(default_factory=list)


class Explanation(BaseModel):
    """A proposal's explanation as the board and the CLI show it."""

    model_config = ConfigDict(frozen=True)

    proposal_id: str
    content_hash: str
    source: Literal["deterministic", "model"]
    model: str | None = None
    label: str
    summary: str
    sections: list[ExplanationSection]
    citations: list[CitedNumber] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)
    rejections: list[ExplanationRejection] = Field(default_factory=list)

    def as_text(self) -> str:
        """Plain text: summary, label, sections, caveats (for the CLI)."""
        lines = [self.summary, f"({self.label})"]
        for section in self.sections:
            lines.append(f"{section.heading}:")
            lines += [f"  - {line}" for line in section.lines]
        if self.caveats:
            lines.append("Caveats:")
            lines += [f"  - {caveat}" for caveat in self.caveats]
        return "\n".join(lines)

    def as_markdown(self) -> str:
        """Markdown for the board."""
        parts = [self.summary, f"*{self.label}*"]
        for section in self.sections:
            parts.append(f"**{section.heading}**\n" + "\n".join(f"- {x}" for x in section.lines))
        if self.caveats:
            parts.append("**Caveats**\n" + "\n".join(f"- {c}" for c in self.caveats))
        return "\n\n".join(parts)

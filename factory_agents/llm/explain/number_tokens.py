"""The numbers a text states, matched against facts within rounding, and how numbers are written."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

_DATES = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2}|\s?UTC)?"
)
_TIMES = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?UTC)?\b")
_NODE_IDS = re.compile(r"\bns=\d+;[isgb]=[^\s,;)\]]+")
_IDENTIFIERS = re.compile(r"\b[A-Za-z_][\w.\-/]*\d[\w.\-/]*")
_MIXED = re.compile(r"\b\d+[A-Za-z_]+\d[\w\-]*")
_ORDINALS = re.compile(r"\b\d+(?:st|nd|rd|th)\b")
_RANGE_DASH = re.compile(r"(?<=\d)-(?=\d)")
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-+]?)(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\d)"
    r"(?P<pct>\s?%)?"
)


@dataclass(frozen=True)
class NumberToken:
    """A number as written in a text: its value, decimals shown, and whether it was a percent."""

    text: str
    value: float
    decimals: int
    percent: bool
    end: int = 0

    def matches(self, fact: float) -> bool:
        """True if rounding `fact` (or 100 × fact, for a percent) could give this number."""
        candidates = [fact, fact * 100.0] if self.percent else [fact]
        tolerance = 0.5 * 10.0 ** (-self.decimals)
        return any(
            abs(abs(self.value) - abs(c)) <= tolerance + 1e-9 * max(1.0, abs(c))
            for c in candidates
            if math.isfinite(c)
        )


def numbers_in(text: str) -> list[NumberToken]:
    """The numbers a text states, leaving out dates, times, node ids and identifiers."""
    cleaned = text.replace("−", "-").replace("\u2009", " ")
    for pattern in (_DATES, _NODE_IDS, _TIMES, _IDENTIFIERS, _MIXED, _ORDINALS):
        cleaned = pattern.sub(lambda found: " " * len(found.group(0)), cleaned)
    cleaned = _RANGE_DASH.sub(" ", cleaned)  # same length: positions stay those of `text`
    tokens = []
    for match in _NUMBER.finditer(cleaned):
        digits = match.group("num").replace(",", "")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        value = float(digits) * (-1.0 if match.group("sign") == "-" else 1.0)
        percent = bool(match.group("pct"))
        tokens.append(NumberToken(match.group(0).strip(), value, decimals, percent, match.end()))
    return tokens


def find_fact(token: NumberToken, facts: Mapping[str, float]) -> str | None:
    """The key of a fact `token` could be a rounding of, or None."""
    for key, value in facts.items():
        if token.matches(value):
            return key
    return None


def fmt(value: float) -> str:
    """A number as explanations write it: up to 6 significant digits, never in e-notation."""
    if value == 0:
        return "0"
    text = f"{value:.6g}"
    if "e" in text:
        text = f"{value:,.0f}" if abs(value) >= 1 else f"{value:.8f}".rstrip("0")
    return text

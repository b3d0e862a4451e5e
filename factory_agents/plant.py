"""The vocabulary agents read: samples with source time and quality, as connectors deliver them."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator


class Quality(StrEnum):
    """OPC UA status reduced to the three classes that matter to an agent."""

    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"


class Sample(BaseModel):
    """One value of one tag, with the time the source measured it and its quality."""

    model_config = ConfigDict(frozen=True)

    tag: str
    value: float
    source_time: datetime
    quality: Quality = Quality.GOOD

    @field_validator("source_time")
    @classmethod
    def _must_be_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("source_time must be timezone-aware (UTC); got a naive datetime")
        return value

    def age(self, now: datetime) -> timedelta:
        """How old the sample is at `now`."""
        return now - self.source_time

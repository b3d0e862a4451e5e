"""A chat model class substituted for a provider's in the router's registry: it records how
the router constructed it (the arguments a real provider class would get)."""

from __future__ import annotations

from typing import Any

from factory_agents.llm.fakes import ScriptedChatModel


class RecordingChatModel(ScriptedChatModel):
    """Accepts the constructor arguments of ChatOpenAI, ChatAnthropic and ChatOllama."""

    model: str = ""
    base_url: str | None = None
    client_kwargs: dict[str, Any] | None = None

"""Scripted chat models for tests and CI evals: real BaseChatModels, no network.

`ScriptedChatModel` replays a script, one step per call: an `AIMessage` (with tool calls and
usage metadata, as a provider would return it), a function of the messages it was sent that
returns one, or an exception to raise. It supports `bind_tools` (the tools arrive as the
OpenAI-format schemas a provider would send) and hence langchain-core's own
`with_structured_output`, so production code runs its real paths against it.
`FailingChatModel` fails every call, for fallback and retry tests.

The `fake` provider (`FACTORY_LLM_MODELS="copilot=fake:NAME"`) builds a ScriptedChatModel
from the script registered under NAME with `register_script`.

Example::

    model = ScriptedChatModel(script=[
        call_tools(tool_call("read_tags", {"tags": ["ns=2;s=Line1.GoodCount"]})),
        reply("The line has counted 1200 good units."),
    ])
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolCall
from langchain_core.messages.ai import UsageMetadata
from langchain_core.output_parsers.openai_tools import make_invalid_tool_call, parse_tool_call
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field, PrivateAttr

from factory_agents.llm.errors import LlmConfigurationError

Step = AIMessage | Callable[[Sequence[BaseMessage]], AIMessage] | BaseException
"""One scripted reply: a message, a function of the messages sent, or an error to raise."""


def usage(input_tokens: int, output_tokens: int) -> UsageMetadata:
    """Usage metadata as providers report it."""
    return UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )


def tool_call(name: str, args: dict[str, Any], *, call_id: str | None = None) -> ToolCall:
    """One well-formed tool call."""
    return ToolCall(name=name, args=args, id=call_id or f"call_{uuid.uuid4().hex[:12]}")


def call_tools(*calls: ToolCall, tokens: UsageMetadata | None = None) -> AIMessage:
    """An assistant message asking for tool calls."""
    return AIMessage(content="", tool_calls=list(calls), usage_metadata=tokens or usage(120, 20))


def reply(text: str, *, tokens: UsageMetadata | None = None) -> AIMessage:
    """An assistant message answering in text."""
    return AIMessage(content=text, usage_metadata=tokens or usage(200, max(len(text) // 4, 1)))


def structured(
    schema: type[BaseModel], data: dict[str, Any], *, tokens: UsageMetadata | None = None
) -> AIMessage:
    """The tool call `with_structured_output(schema)` expects, carrying `data` as arguments."""
    name = convert_to_openai_tool(schema)["function"]["name"]
    return call_tools(tool_call(name, data), tokens=tokens or usage(400, 80))


def raw_tool_calls(
    raw: Sequence[tuple[str, str]], *, tokens: UsageMetadata | None = None
) -> AIMessage:
    """A message from raw (name, JSON text) calls, parsed the way OpenAI-format providers do.

    Arguments that are not valid JSON become `invalid_tool_calls`, as in langchain-openai.
    """
    calls: list[ToolCall] = []
    invalid = []
    for name, arguments in raw:
        entry = {
            "id": f"call_{uuid.uuid4().hex[:12]}",
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        try:
            parsed = parse_tool_call(entry, return_id=True)
        except Exception as err:  # OutputParserException: the provider path does the same
            invalid.append(make_invalid_tool_call(entry, str(err)))
        else:
            if parsed is not None:
                calls.append(ToolCall(name=parsed["name"], args=parsed["args"], id=parsed["id"]))
    return AIMessage(
        content="",
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=tokens or usage(120, 20),
    )


@dataclass(frozen=True)
class ScriptedCall:
    """What one call of a scripted model was sent: messages, offered tools, tool choice."""

    messages: list[BaseMessage]
    tools: list[str]
    tool_choice: str | None


class ScriptExhausted(AssertionError):
    """A scripted model was called more often than its script has steps."""


class _Recording(BaseChatModel):
    """Records every call; binds tools as OpenAI-format schemas, like provider models do."""

    label: str = "fake:scripted"
    timeout: float | None = None
    max_retries: int | None = None
    _calls: list[ScriptedCall] = PrivateAttr(default_factory=list)

    @property
    def calls(self) -> list[ScriptedCall]:
        """Every call made so far."""
        return list(self._calls)

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"label": self.label}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools the way providers do: converted to OpenAI tool schemas."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _note(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> None:
        offered = [tool["function"]["name"] for tool in kwargs.get("tools") or []]
        choice = kwargs.get("tool_choice")
        self._calls.append(ScriptedCall(list(messages), offered, str(choice) if choice else None))


class ScriptedChatModel(_Recording):
    """Replays its script, one step per call; raises ScriptExhausted past its end."""

    script: list[Any] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    @property
    def remaining(self) -> int:
        """Steps not yet replayed."""
        return len(self.script) - len(self._calls)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        index = len(self._calls)
        self._note(messages, kwargs)
        if index >= len(self.script):
            raise ScriptExhausted(
                f"{self.label} was called {index + 1} times but its script has"
                f" {len(self.script)} steps"
            )
        step = self.script[index]
        if isinstance(step, BaseException):
            raise step
        message = step(messages) if callable(step) else step
        if not isinstance(message, AIMessage):
            raise TypeError(f"script step {index} of {self.label} gave {type(message).__name__}")
        if message.usage_metadata is None:
            sent = sum(len(str(m.content)) for m in messages)
            message = message.model_copy(
                update={"usage_metadata": usage(sent // 4 + 1, len(str(message.content)) // 4 + 1)}
            )
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop, None, **kwargs)


class FailingChatModel(_Recording):
    """Fails every call with ConnectionError(message), like a provider that cannot be reached."""

    message: str = "provider unreachable: connection refused"

    @property
    def _llm_type(self) -> str:
        return "failing-fake"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._note(messages, kwargs)
        raise ConnectionError(self.message)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop, None, **kwargs)


_SCRIPTS: dict[str, Callable[[], list[Step]]] = {}


def register_script(name: str, factory: Callable[[], list[Step]]) -> None:
    """Make `fake:NAME` build a ScriptedChatModel replaying a fresh `factory()` script."""
    _SCRIPTS[name] = factory


def unregister_script(name: str) -> None:
    """Forget the script registered under `name` (no error if there is none)."""
    _SCRIPTS.pop(name, None)


def script_for(name: str) -> list[Step]:
    """A fresh copy of the script registered under `name`."""
    factory = _SCRIPTS.get(name)
    if factory is None:
        known = ", ".join(sorted(_SCRIPTS)) or "none"
        raise LlmConfigurationError(
            f"fake:{name} names no registered script (registered: {known}); the fake provider"
            " is for tests and CI evals: register a script with"
            " factory_agents.llm.fakes.register_script first"
        )
    return factory()


def message_text(messages: Sequence[BaseMessage]) -> str:
    """Everything sent to a model, as one string (for scripted steps that look at it)."""
    return "\n".join(
        m.content if isinstance(m.content, str) else json.dumps(m.content) for m in messages
    )

"""One streamed OpenAI-style chat completion put together: text, tool calls, finish reason, usage.

Servers send the reply as deltas: `delta.content` pieces, and `delta.tool_calls` whose name and
JSON arguments arrive in fragments keyed by index. Atelier's chat shows tool calls as approval
cards parsed from `<tool_call>{…}</tool_call>` in the reply (desktop.core.tool_calls), the form local
models write; so a server's finished tool calls are written into the reply in that same form, and
everything after (validation, the card, approval, persistence) is the one path local replies take.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MAX_TOOL_CALLS = 16
MAX_ARGUMENT_CHARS = 20000  # tool_calls.MAX_CALL_CHARS: longer ones are not calls


def chat_request(model: str, messages: list[dict], *, temperature: float, top_p: float, max_tokens: int,
                 seed: int | None = None, tools=None) -> dict:
    """The body of POST /v1/chat/completions."""
    body: dict = {"model": model, "messages": [dict(m) for m in messages], "temperature": float(temperature),
                  "top_p": float(top_p), "max_tokens": int(max_tokens), "stream": True,
                  "stream_options": {"include_usage": True}}
    if seed is not None:
        body["seed"] = int(seed)
    if tools:
        body["tools"] = [dict(tool) for tool in tools]
    return body


@dataclass
class _PartialCall:
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ServerReply:
    """Feed it each event; it returns the new text and keeps the rest (calls, finish, usage)."""

    def __init__(self) -> None:
        self.finish_reason = ""
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.events = 0
        self._calls: dict[int, _PartialCall] = {}

    def feed(self, event: dict) -> str:
        self.events += 1
        usage = event.get("usage")
        if isinstance(usage, dict):
            self.prompt_tokens = int(usage.get("prompt_tokens") or 0) or self.prompt_tokens
            self.completion_tokens = int(usage.get("completion_tokens") or 0) or self.completion_tokens
        text = []
        for choice in event.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) not in (0, None):
                continue
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
            part = choice.get("delta") or choice.get("message") or {}  # "message": a server that did not stream
            if not isinstance(part, dict):
                continue
            content = part.get("content")
            if isinstance(content, str):
                text.append(content)
            for position, call in enumerate(part.get("tool_calls") or []):
                if isinstance(call, dict):
                    self._add_call(call, position)
        return "".join(text)

    def _add_call(self, call: dict, position: int) -> None:
        index = call.get("index", position)
        if not isinstance(index, int) or not 0 <= index < MAX_TOOL_CALLS:
            return
        partial = self._calls.setdefault(index, _PartialCall())
        function = call.get("function") or {}
        if not isinstance(function, dict):
            return
        if isinstance(function.get("name"), str):
            partial.name += function["name"]
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            partial.arguments.append(arguments)
        elif isinstance(arguments, dict):  # some servers send the object, not its JSON text
            partial.arguments.append(json.dumps(arguments))

    def tool_call_text(self) -> str:
        """The finished tool calls as `<tool_call>{…}</tool_call>` blocks, ready for tool_calls.parse_reply."""
        blocks = []
        for index in sorted(self._calls):
            call = self._calls[index]
            raw = "".join(call.arguments).strip()[:MAX_ARGUMENT_CHARS + 1]
            try:
                arguments = json.loads(raw) if raw else {}
            except ValueError:
                arguments = raw  # kept as text: parse_call explains why it is not run
            blocks.append("<tool_call>" + json.dumps({"name": call.name, "arguments": arguments}) + "</tool_call>")
        return "\n".join(blocks)

    @property
    def finish(self) -> str:
        """stop / length, in the local engine's words (a reply that ends in tool calls has stopped)."""
        return "length" if self.finish_reason == "length" else "stop"

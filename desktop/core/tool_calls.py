"""The assistant's typed tools and the parser for the calls a chat model writes in its reply.

Instruct models trained on Qwen/Hermes templates answer with
`<tool_call>{"name": "set_seed", "arguments": {"seed": 7}}</tool_call>`. Only a call whose name is
one of TOOLS and whose arguments have exactly the declared names and types becomes a ToolCall;
anything else stays text (with the reason), so nothing malformed can ever be executed.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from desktop.core.params import MAX_SEED, ParamError, check_size

MAX_PROMPT_CHARS = 4000
MAX_CALL_CHARS = 20000  # longer blocks are not parsed at all: no legitimate call is that long

_PROMPT = {"type": "string", "description": "the prompt text"}


def _tool(name: str, description: str, properties: dict, required: list[str]) -> dict:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required}}}


# JSON-schema tool definitions, in the form `tokenizer.apply_chat_template(..., tools=TOOLS)` takes
TOOLS: tuple[dict, ...] = (
    _tool("set_prompt", "Replace the image prompt in the prompt panel.", {"prompt": _PROMPT}, ["prompt"]),
    _tool("set_negative_prompt", "Replace the negative prompt (what the image must not show).",
          {"prompt": _PROMPT}, ["prompt"]),
    _tool("set_size", "Set the image size in pixels: multiples of 8 from 64 to 4096.",
          {"width": {"type": "integer", "description": "width in pixels"},
           "height": {"type": "integer", "description": "height in pixels"}}, ["width", "height"]),
    _tool("set_seed", f"Set the random seed (0 to {MAX_SEED}) so an image can be made again.",
          {"seed": {"type": "integer", "description": "the seed"}}, ["seed"]),
    _tool("generate_image", "Make an image with the current settings, optionally with a new prompt first.",
          {"prompt": _PROMPT}, []),
)
_SPECS = {tool["function"]["name"]: tool["function"]["parameters"] for tool in TOOLS}
TOOL_NAMES = tuple(_SPECS)


@dataclass(frozen=True)
class TextSegment:
    """Plain reply text; `problem` says why it was not run when it looked like a tool call."""

    text: str
    problem: str = ""


@dataclass(frozen=True)
class ToolCall:
    """A validated call of one of TOOLS; `raw` is the text the model wrote for it."""

    name: str
    arguments: Mapping[str, Any]
    raw: str = ""

    def describe(self) -> str:
        """One line for the approval card."""
        args = self.arguments
        if self.name == "set_prompt":
            return f"Set the prompt to “{args['prompt']}”"
        if self.name == "set_negative_prompt":
            return f"Set the negative prompt to “{args['prompt']}”"
        if self.name == "set_size":
            return f"Set the size to {args['width']}x{args['height']}"
        if self.name == "set_seed":
            return f"Set the seed to {args['seed']}"
        return f"Generate an image of “{args['prompt']}”" if args.get("prompt") else "Generate an image"


class ToolCallError(ValueError):
    """Why a block that looked like a tool call cannot be run."""


def _whole_number(name: str, value: Any) -> int:
    # models write 512, "512" or 512.0 for the same thing; anything else is refused
    if isinstance(value, bool):
        raise ToolCallError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,10}\s*", value):
        return int(value)
    raise ToolCallError(f"{name} must be a whole number, got {str(value)[:40]!r}")


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ToolCallError(f"{name} must be text, got {type(value).__name__}")
    if len(value) > MAX_PROMPT_CHARS or "\x00" in value:
        raise ToolCallError(f"{name} is too long or holds a NUL character")
    return value.strip()


def validate_call(name: Any, arguments: Any) -> ToolCall:
    """A ToolCall when name and arguments match the declared tool exactly; ToolCallError says why not."""
    if not isinstance(name, str) or name not in _SPECS:
        raise ToolCallError(f"unknown tool {str(name)[:40]!r}: the tools are {', '.join(TOOL_NAMES)}")
    if not isinstance(arguments, dict):
        raise ToolCallError(f"the arguments of {name} must be a JSON object")
    spec = _SPECS[name]
    unknown = set(arguments) - set(spec["properties"])
    if unknown:
        raise ToolCallError(f"{name} takes no argument {sorted(unknown)[0][:40]!r}")
    missing = [key for key in spec["required"] if key not in arguments]
    if missing:
        raise ToolCallError(f"{name} needs {', '.join(missing)}")
    clean: dict[str, Any] = {}
    for key, value in arguments.items():
        kind = spec["properties"][key]["type"]
        clean[key] = _text(key, value) if kind == "string" else _whole_number(key, value)
    try:
        if name == "set_size":
            check_size(clean["width"], clean["height"])
    except ParamError as error:
        raise ToolCallError(str(error)) from None
    if name == "set_seed" and not 0 <= clean["seed"] <= MAX_SEED:
        raise ToolCallError(f"seed must be from 0 to {MAX_SEED}")
    if name in ("set_prompt",) and not clean["prompt"]:
        raise ToolCallError("set_prompt needs a prompt that is not empty")
    return ToolCall(name, MappingProxyType(clean))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ToolCallError("a key appears twice")  # json would keep the last one silently
    return dict(pairs)


def _no_constants(name: str) -> Any:
    raise ToolCallError(f"{name} is not a number")


def _load_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except ToolCallError:
        raise
    except (ValueError, RecursionError) as error:  # RecursionError: deeply nested brackets
        raise ToolCallError(f"not valid JSON ({type(error).__name__})") from None


def parse_call(body: str) -> ToolCall:
    """Parse what sits between <tool_call> and </tool_call>."""
    if len(body) > MAX_CALL_CHARS:
        raise ToolCallError("too long to be a tool call")
    data = _load_json(body.strip())
    if not isinstance(data, dict) or "name" not in data:
        raise ToolCallError('a tool call is a JSON object with "name" and "arguments"')
    if set(data) - {"name", "arguments", "parameters", "id"} or ("arguments" in data and "parameters" in data):
        raise ToolCallError("a tool call holds only name and arguments")
    arguments = data.get("arguments", data.get("parameters", {}))
    if isinstance(arguments, str):  # OpenAI style: the arguments as a JSON string
        arguments = _load_json(arguments) if arguments.strip() else {}
    return validate_call(data["name"], arguments)


_BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
_OPEN = "<tool_call>"


def parse_reply(text: str) -> list[TextSegment | ToolCall]:
    """Split a reply into text and valid tool calls; joining every piece's text/raw gives `text` back."""
    pieces: list[TextSegment | ToolCall] = []

    def add_text(chunk: str, problem: str = "") -> None:
        if not chunk:
            return
        if pieces and isinstance(pieces[-1], TextSegment) and not problem and not pieces[-1].problem:
            pieces[-1] = TextSegment(pieces[-1].text + chunk)
        else:
            pieces.append(TextSegment(chunk, problem))

    position = 0
    for match in _BLOCK.finditer(text):
        add_text(text[position:match.start()])
        try:
            call = parse_call(match.group(1))
        except ToolCallError as error:
            add_text(match.group(0), f"not run: {error}")
        else:
            pieces.append(ToolCall(call.name, call.arguments, match.group(0)))
        position = match.end()
    rest = text[position:]
    opened = rest.find(_OPEN)
    if opened >= 0:
        add_text(rest[:opened])
        add_text(rest[opened:], "not run: the tool call is unfinished (no </tool_call>)")
    else:
        add_text(rest)
    return pieces


def tool_calls(text: str) -> list[ToolCall]:
    return [piece for piece in parse_reply(text) if isinstance(piece, ToolCall)]


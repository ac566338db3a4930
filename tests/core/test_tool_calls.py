"""Tool calls written by a chat model: valid ones become typed calls, everything else stays text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.core.tool_calls import (
    TOOL_NAMES, TOOLS, TextSegment, ToolCall, ToolCallError, parse_call, parse_reply, tool_calls,
)


def block(data) -> str:
    return f"<tool_call>{data if isinstance(data, str) else json.dumps(data)}</tool_call>"


def rejoin(pieces) -> str:
    return "".join(p.raw if isinstance(p, ToolCall) else p.text for p in pieces)


def test_tools_are_json_schema_function_definitions():
    assert TOOL_NAMES == ("set_prompt", "set_negative_prompt", "set_size", "set_seed", "generate_image")
    for tool in TOOLS:
        assert tool["type"] == "function"
        parameters = tool["function"]["parameters"]
        assert parameters["type"] == "object"
        assert set(parameters["required"]) <= set(parameters["properties"])
        json.dumps(tool)  # what apply_chat_template(tools=...) serialises


def test_a_reply_with_text_and_calls_in_hermes_format():
    reply = ("Sure! I'll set it up.\n" + block({"name": "set_prompt", "arguments": {"prompt": "a red fox"}})
             + "\n" + block({"name": "set_size", "arguments": {"width": 768, "height": 512}}) + "\nDone.")
    pieces = parse_reply(reply)
    assert [type(p) for p in pieces] == [TextSegment, ToolCall, TextSegment, ToolCall, TextSegment]
    assert pieces[1].name == "set_prompt" and dict(pieces[1].arguments) == {"prompt": "a red fox"}
    assert dict(pieces[3].arguments) == {"width": 768, "height": 512}
    assert pieces[3].describe() == "Set the size to 768x512"
    assert rejoin(pieces) == reply


@pytest.mark.parametrize("body, expected", [
    ({"name": "set_seed", "arguments": {"seed": 42}}, {"seed": 42}),
    ({"name": "set_seed", "arguments": {"seed": "42"}}, {"seed": 42}),  # models quote numbers
    ({"name": "set_seed", "arguments": {"seed": 42.0}}, {"seed": 42}),
    ({"name": "set_seed", "arguments": '{"seed": 7}'}, {"seed": 7}),  # OpenAI style: arguments as a string
    ({"name": "set_seed", "parameters": {"seed": 3}}, {"seed": 3}),  # Llama 3.1 style
    ({"name": "generate_image", "arguments": {}}, {}),
    ({"name": "generate_image"}, {}),
    ({"name": "set_negative_prompt", "arguments": {"prompt": "  blurry, lowres "}}, {"prompt": "blurry, lowres"}),
])
def test_valid_calls(body, expected):
    call = parse_call(json.dumps(body))
    assert dict(call.arguments) == expected


@pytest.mark.parametrize("body, reason", [
    ('{"name": "set_seed", "arguments": {"seed": 42}', "not valid JSON"),  # partial
    ('{"name": "rm_rf", "arguments": {}}', "unknown tool"),
    ('{"name": "set_seed", "arguments": {"seed": 1, "extra": 2}}', "takes no argument"),
    ('{"name": "set_seed", "arguments": {}}', "needs seed"),
    ('{"name": "set_seed", "arguments": {"seed": -1}}', "seed must be from 0"),
    ('{"name": "set_seed", "arguments": {"seed": 99999999999}}', "seed must be"),
    ('{"name": "set_seed", "arguments": {"seed": true}}', "whole number"),
    ('{"name": "set_seed", "arguments": {"seed": NaN}}', "not a number"),
    ('{"name": "set_seed", "arguments": {"seed": 1.5}}', "whole number"),
    ('{"name": "set_size", "arguments": {"width": 513, "height": 512}}', "multiple of 8"),
    ('{"name": "set_size", "arguments": {"width": 100000, "height": 512}}', "not allowed"),
    ('{"name": "set_prompt", "arguments": {"prompt": ["a", "list"]}}', "must be text"),
    ('{"name": "set_prompt", "arguments": {"prompt": ""}}', "not empty"),
    ('{"name": "set_prompt", "arguments": {"prompt": "a", "prompt": "b"}}', "twice"),
    ('{"name": "set_prompt", "arguments": {"prompt": "a"}, "parameters": {}}', "only name"),
    ('{"name": "set_prompt", "arguments": {"prompt": "a"}, "exec": "rm"}', "only name"),
    ('["set_prompt", {"prompt": "a"}]', "JSON object"),
    ('{"name": {"nested": 1}, "arguments": {}}', "unknown tool"),
    ('{"name": "set_prompt", "arguments": "not json"}', "not valid JSON"),
    ("[" * 50000 + "]" * 50000, "too long"),
    ("[" * 5000 + "]" * 5000, "not valid JSON"),  # deep nesting: RecursionError, caught
    ('{"name": "set_seed", "arguments": {"seed": ' + "9" * 5000 + "}}", "not valid JSON"),
])
def test_malformed_calls_are_refused_with_a_reason(body, reason):
    with pytest.raises(ToolCallError, match=reason):
        parse_call(body)
    pieces = parse_reply("before " + block(body) + " after")
    assert all(isinstance(p, TextSegment) for p in pieces)
    assert any(p.problem.startswith("not run:") for p in pieces)
    assert tool_calls("before " + block(body)) == []


def test_an_unfinished_call_at_the_end_stays_text():
    reply = 'Setting it now <tool_call>{"name": "set_seed", "arguments": {"seed": 4'
    pieces = parse_reply(reply)
    assert pieces == [TextSegment("Setting it now "),
                      TextSegment(reply[len("Setting it now "):], "not run: the tool call is unfinished (no </tool_call>)")]


def test_calls_are_immutable():
    call = parse_call('{"name": "set_seed", "arguments": {"seed": 1}}')
    with pytest.raises(TypeError):
        call.arguments["seed"] = 666
    with pytest.raises(AttributeError):
        call.name = "generate_image"


# ------------------------------------------------------------------ property tests: hostile model output
_fragments = st.sampled_from([
    "<tool_call>", "</tool_call>", "{", "}", '"name"', ":", '"set_seed"', '"set_size"', '"arguments"', ",",
    '{"seed": 1}', '"prompt"', "[", "]", "null", "1e999", "-0", '"\\u0000"', "\n", " ", "rm -rf /", "<script>",
    block({"name": "set_seed", "arguments": {"seed": 5}}), block({"name": "set_prompt", "arguments": {"prompt": "x"}}),
])
_hostile = st.lists(st.one_of(_fragments, st.text(max_size=12)), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_hostile)
def test_parsing_never_raises_loses_no_text_and_only_yields_valid_calls(text):
    pieces = parse_reply(text)
    assert rejoin(pieces) == text
    for piece in pieces:
        if isinstance(piece, ToolCall):
            assert piece.name in TOOL_NAMES
            assert parse_call(piece.raw[len("<tool_call>"):-len("</tool_call>")]) == ToolCall(piece.name, piece.arguments)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(name=st.one_of(st.sampled_from(TOOL_NAMES), st.text(max_size=15)),
       arguments=st.dictionaries(st.sampled_from(["prompt", "seed", "width", "height", "x"]), _json_values, max_size=3))
def test_any_json_call_is_either_fully_valid_or_refused(name, arguments):
    body = json.dumps({"name": name, "arguments": arguments})
    try:
        call = parse_call(body)
    except ToolCallError:
        return
    assert call.name == name
    for key, value in call.arguments.items():
        assert isinstance(value, str if key == "prompt" else int) and not isinstance(value, bool)
    if name == "set_size":
        assert call.arguments["width"] % 8 == 0 and 64 <= call.arguments["height"] <= 4096

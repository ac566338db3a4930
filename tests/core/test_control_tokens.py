"""Control tokens of the common chat templates never reach the screen; ordinary text is left alone."""

from __future__ import annotations

import pytest

from desktop.core.control_tokens import hide_control_tokens


@pytest.mark.parametrize("raw, shown", [
    ("Sure!<|im_end|>\n<|im_start|>user\nmore", "Sure!\nmore"),
    ("<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>", "Hello"),
    ("<start_of_turn>model\nHi<end_of_turn>\n", "Hi"),
    ("<s>[INST] <<SYS>>be brief<</SYS>> hi [/INST] ok</s>", " be brief hi  ok"),
    ("a <|endoftext|>b", "a b"),
])
def test_markers_are_removed(raw, shown):
    assert hide_control_tokens(raw) == shown


@pytest.mark.parametrize("text", [
    "x < y | z > w", "<tool_call>{\"name\": \"set_prompt\"}</tool_call>", "a <b>bold</b> claim",
    "|>", "<|", "use the <|pipe|> operator? no: <| spaced |>",
])
def test_ordinary_text_is_left_alone(text):
    expected = text.replace("<|pipe|>", "")  # a marker-shaped word is taken for a marker
    assert hide_control_tokens(text) == expected

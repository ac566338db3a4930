"""`<lora:name:weight>` parsing, as A1111 writes it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.core.lora_syntax import LoraRef, LoraSyntaxError, format_tag, merge_choices, parse_loras


@pytest.mark.parametrize("prompt,cleaned,refs", [
    ("a cat, <lora:ink:0.8>, best quality", "a cat, best quality", [LoraRef("ink", 0.8)]),
    ("<lora:ink> watercolor", "watercolor", [LoraRef("ink", 1.0)]),
    ("x <LORA:Foo Bar:-0.5:0.3>", "x", [LoraRef("Foo Bar", -0.5)]),  # A1111's text-encoder weight: ignored
    ("x <lyco:detail:0.4>", "x", [LoraRef("detail", 0.4)]),
    ("<lora:a:1><lora:a:0.3> y", "y", [LoraRef("a", 0.3)]),  # the last weight for a name wins
    ("(cat:1.2), [dog]", "(cat:1.2), [dog]", []),  # prompt weights are not LoRAs: untouched
    ("line one\n<lora:ink:0.5>\nline two", "line one\n\nline two", [LoraRef("ink", 0.5)]),
])
def test_parse(prompt, cleaned, refs):
    assert parse_loras(prompt) == (cleaned, refs)


@pytest.mark.parametrize("prompt,message", [("<lora:x:abc>", "not a number"), ("<lora:x:99>", "outside")])
def test_bad_weights_say_what_to_write(prompt, message):
    with pytest.raises(LoraSyntaxError, match=message):
        parse_loras(prompt)


def test_panel_and_prompt_merge_and_zero_weight_drops():
    merged = merge_choices([LoraRef("Ink", 0.3)], [LoraRef("ink", 0.9), LoraRef("film", 0.0), LoraRef("grain", 0.5)])
    assert merged == [LoraRef("Ink", 0.3), LoraRef("grain", 0.5)]


@given(st.from_regex(r"[a-z][a-z0-9_ -]{0,15}[a-z0-9]", fullmatch=True),
       st.floats(min_value=-5, max_value=5, allow_nan=False).map(lambda w: round(w, 2)))
def test_format_then_parse_round_trips(name, weight):
    assert parse_loras(f"a painting {format_tag(LoraRef(name, weight))}") == ("a painting", [LoraRef(name, weight)])

"""A1111 emphasis syntax, parsed without torch."""

import pytest

from desktop.core.prompt_weights import BREAK_FRAGMENT, Fragment, is_plain, parse_weights, plain_text

W = 1.1


@pytest.mark.parametrize("prompt, expected", [
    ("a red fox", [Fragment("a red fox", 1.0)]),
    ("(word)", [Fragment("word", W)]),
    ("((word))", [Fragment("word", W * W)]),
    ("[word]", [Fragment("word", 1 / W)]),
    ("(word:1.3)", [Fragment("word", 1.3)]),
    ("(word:1.0)", [Fragment("word", 1.0)]),
    ("( word : 0.5 )", [Fragment(" word ", 0.5)]),
    ("a (red:1.3) fox", [Fragment("a ", 1.0), Fragment("red", 1.3), Fragment(" fox", 1.0)]),
    ("a [b (c:2)] d", [Fragment("a ", 1.0), Fragment("b ", 1 / W), Fragment("c", 2 / W), Fragment(" d", 1.0)]),
    (r"\(not weighted\)", [Fragment("(not weighted)", 1.0)]),
    (r"a \[b\] \\ c", [Fragment(r"a [b] \ c", 1.0)]),
    ("open (bracket to the end", [Fragment("open ", 1.0), Fragment("bracket to the end", W)]),
    ("stray ) and ] close", [Fragment("stray ) and ] close", 1.0)]),
    ("time: 5 o'clock", [Fragment("time: 5 o'clock", 1.0)]),
    ("sky BREAK sea", [Fragment("sky", 1.0), BREAK_FRAGMENT, Fragment("sea", 1.0)]),
    ("(sky BREAK sea:1.2)", [Fragment("sky", 1.2), BREAK_FRAGMENT, Fragment("sea", 1.2)]),
    ("BREAKFAST at noon", [Fragment("BREAKFAST at noon", 1.0)]),
    ("", [Fragment("", 1.0)]),
])
def test_a1111_rules(prompt, expected):
    got = parse_weights(prompt)
    assert [(f.text, f.is_break) for f in got] == [(f.text, f.is_break) for f in expected]
    assert [f.weight for f in got] == pytest.approx([f.weight for f in expected])


@pytest.mark.parametrize("prompt, plain", [
    ("a red fox, watercolor", True), ("", True), ("time: noon", True), ("a (red) fox", False),
    ("(fox:1.0)", False), ("sky BREAK sea", False), (r"\(x\)", False),
])
def test_plain_prompts_are_told_apart(prompt, plain):
    assert is_plain(prompt) is plain


def test_plain_text_drops_the_syntax():
    assert plain_text("a ((red)) [fox] BREAK (sky:1.4)") == "a red fox sky"

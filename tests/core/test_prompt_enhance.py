"""Prompt Enhance (instructions per family, reading the rewrite, the word diff) and Markdown rendering."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.core.markdown_render import FencedBlock, fenced_blocks, render_inline, render_markdown
from desktop.core.models import SD1, SD2, SDXL, UNKNOWN
from desktop.core.prompt_enhance import (
    DiffPiece, diff_html, enhance_instruction, enhance_messages, extract_prompt, is_tag_style, word_diff,
)


def test_instruction_follows_the_family():
    assert is_tag_style(SD1) and is_tag_style(SD2) and not is_tag_style(SDXL)
    assert "comma-separated" in enhance_instruction(SD1) and "75" not in enhance_instruction(SD1)
    assert "sentences" in enhance_instruction(SDXL)
    assert enhance_instruction(UNKNOWN) == enhance_instruction(SDXL)
    messages = enhance_messages("  a fox  ", SD1)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[1]["content"].endswith("a fox")
    with pytest.raises(ValueError, match="no prompt"):
        enhance_messages("   ", SDXL)


@pytest.mark.parametrize("reply, expected", [
    ("```prompt\nred fox, snow, golden hour\n```", "red fox, snow, golden hour"),
    ("Here you go:\n```\nA red fox stands in fresh snow.\n```\nEnjoy!", "A red fox stands in fresh snow."),
    ("```text\nnot this\n```\n```prompt\nthis one\n```", "this one"),
    ('Prompt: "a red fox, snow"', "a red fox, snow"),
    ("**Enhanced prompt:** a red fox", "a red fox"),
    ("Here is an improved version:\na red fox, snow", "a red fox, snow"),
    ("<think>the user wants tags\nso...</think>\n```prompt\nfox, snow\n```", "fox, snow"),
    ("“a red fox at dawn”", "a red fox at dawn"),
    ("", ""),
    ("<think>never finished", ""),
])
def test_extract_prompt(reply, expected):
    assert extract_prompt(reply) == expected


def test_word_diff_marks_added_and_removed_words():
    pieces = word_diff("a fox, snow", "a red fox, snow, golden hour")
    assert "".join(p.text for p in pieces if p.kind != "removed") == "a red fox, snow, golden hour"
    assert "".join(p.text for p in pieces if p.kind != "added") == "a fox, snow"
    assert DiffPiece("added", " red") in pieces
    assert [p.kind for p in word_diff("same words", "same words")] == ["same"]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_word_diff_always_rebuilds_both_prompts(before, after):
    pieces = word_diff(before, after)
    assert "".join(p.text for p in pieces if p.kind != "added") == before
    assert "".join(p.text for p in pieces if p.kind != "removed") == after


def test_diff_html_escapes():
    html = diff_html(word_diff("a <b>", "a <i>"))
    assert "<b>" not in html and "&lt;i&gt;" in html and "line-through" in html


# ------------------------------------------------------------------ markdown
def test_fenced_blocks_with_languages_and_an_unclosed_one():
    text = "Intro\n```prompt\nfox, snow\n```\nmid\n~~~python\nprint(1)\n~~~\n```\nstill streaming"
    assert fenced_blocks(text) == [FencedBlock("prompt", "fox, snow"), FencedBlock("python", "print(1)"),
                                   FencedBlock("", "still streaming", closed=False)]
    assert fenced_blocks("no code here") == []
    assert fenced_blocks("````\n```\ninner\n```\n````") == [FencedBlock("", "```\ninner\n```")]


def test_render_markdown_subset():
    html = render_markdown(
        "# Title\nSome *soft* and **bold** text with `code <x>`.\nSecond line.\n\n- one\n- two\n\n"
        "1. first\n2. second\n\n> quoted\n\n```python\nif a < b:\n    pass\n```\nsee [docs](https://example.org/a?b=1&c=2)")
    assert "<h1>Title</h1>" in html
    assert "<p>Some <i>soft</i> and <b>bold</b> text with <code>code &lt;x&gt;</code>.<br>Second line.</p>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in html
    assert "<blockquote>quoted</blockquote>" in html
    assert "<pre><code>if a &lt; b:\n    pass</code></pre>" in html
    assert '<a href="https://example.org/a?b=1&amp;c=2">docs</a>' in html


def test_render_markdown_never_passes_html_through():
    hostile = ('<img src="file:///etc/passwd"> <script>alert(1)</script> [x](javascript:alert(1)) '
               '[y](https://a.b/"onmouseover="x) snake_case_name __init__')
    html = render_markdown(hostile)
    assert "<img" not in html and "<script" not in html and "javascript:" not in html.replace("javascript:alert", "")
    assert 'href="javascript' not in html and '"onmouseover' not in html
    assert "snake_case_name" in html


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>\"'&*_`#-1. \n[]()/:abc")), max_size=80))
def test_rendered_markdown_has_only_our_tags(text):
    html = render_markdown(text) + render_inline(text)
    allowed = {"p", "br", "b", "i", "code", "pre", "ul", "ol", "li", "blockquote", "a", "h1", "h2", "h3", "h4",
               "h5", "h6"}
    import re

    for tag in re.findall(r"</?([a-zA-Z0-9]+)", html):
        assert tag in allowed

"""Chat replies as Markdown: fenced code blocks, and a small, safe HTML rendering for QTextBrowser.

Model output is untrusted: every character is HTML-escaped before any markup is added, so a reply
can never inject tags, images or local-file links. Only the subset chat replies use is rendered:
paragraphs, headings, lists, block quotes, emphasis, inline code, fenced code and http(s) links.
An unclosed fence (a reply still streaming) renders as code up to the end.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+.-]*)[^\n]*$")


@dataclass(frozen=True)
class FencedBlock:
    """One fenced code block: its language word (may be empty) and its code."""

    language: str
    code: str
    closed: bool = True


def fenced_blocks(text: str) -> list[FencedBlock]:
    """Every ``` or ~~~ fenced block, in order; an unclosed last one is included with closed=False."""
    blocks: list[FencedBlock] = []
    opener, language, body = None, "", []
    for line in text.splitlines():
        match = _FENCE.match(line)
        if opener is None:
            if match:
                opener, language, body = match.group(1), match.group(2).lower(), []
        elif match and match.group(1)[0] == opener[0] and len(match.group(1)) >= len(opener) and not match.group(2):
            blocks.append(FencedBlock(language, "\n".join(body)))
            opener = None
        else:
            body.append(line)
    if opener is not None:
        blocks.append(FencedBlock(language, "\n".join(body), closed=False))
    return blocks


_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_BOLD = re.compile(r"(?<!\w)(\*\*|__)(?=\S)(.+?)(?<=\S)\1(?!\w)")
_ITALIC = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^\s)]+)\)")


def render_inline(text: str) -> str:
    """Escape, then add code spans, links, bold and italic; code spans are kept out of the rest."""
    spans: list[str] = []

    def keep(match: re.Match) -> str:
        spans.append(f"<code>{html.escape(match.group(2).strip())}</code>")
        return f"\x00{len(spans) - 1}\x00"

    text = _CODE_SPAN.sub(keep, text.replace("\x00", ""))
    text = html.escape(text, quote=True)
    # the URL is escaped already (quote=True), so it cannot close the attribute
    text = _LINK.sub(r'<a href="\2">\1</a>', text)
    text = _BOLD.sub(r"<b>\2</b>", text)
    text = _ITALIC.sub(r"<i>\2</i>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], text)


_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBER = re.compile(r"^\s*\d{1,9}[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s*>\s?(.*)$")


def render_markdown(text: str) -> str:
    """Markdown to a small HTML subset; safe for untrusted text."""
    out: list[str] = []
    paragraph: list[str] = []
    list_kind: str | None = None
    lines = text.splitlines()
    index = 0

    def close_paragraph() -> None:
        if paragraph:
            out.append("<p>" + "<br>".join(render_inline(line.strip()) for line in paragraph) + "</p>")
            paragraph.clear()

    def close_list() -> None:
        nonlocal list_kind
        if list_kind:
            out.append(f"</{list_kind}>")
            list_kind = None

    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence:
            close_paragraph()
            close_list()
            opener, code = fence.group(1), []
            index += 1
            while index < len(lines):
                closing = _FENCE.match(lines[index])
                if closing and closing.group(1)[0] == opener[0] and len(closing.group(1)) >= len(opener) \
                        and not closing.group(2):
                    break
                code.append(lines[index])
                index += 1
            out.append("<pre><code>" + html.escape("\n".join(code)) + "</code></pre>")
            index += 1
            continue
        heading, bullet, number, quote = (_HEADING.match(line), _BULLET.match(line), _NUMBER.match(line),
                                          _QUOTE.match(line))
        if not line.strip():
            close_paragraph()
            close_list()
        elif heading:
            close_paragraph()
            close_list()
            level = len(heading.group(1))
            out.append(f"<h{level}>{render_inline(heading.group(2))}</h{level}>")
        elif bullet or number:
            close_paragraph()
            kind = "ul" if bullet else "ol"
            if list_kind != kind:
                close_list()
                out.append(f"<{kind}>")
                list_kind = kind
            out.append(f"<li>{render_inline((bullet or number).group(1))}</li>")
        elif quote:
            close_paragraph()
            close_list()
            out.append(f"<blockquote>{render_inline(quote.group(1))}</blockquote>")
        elif list_kind and line.startswith((" ", "\t")) and out and out[-1].startswith("<li>"):
            out[-1] = out[-1][:-5] + " " + render_inline(line.strip()) + "</li>"  # a wrapped list item
        else:
            close_list()
            paragraph.append(line)
        index += 1
    close_paragraph()
    close_list()
    return "\n".join(out)

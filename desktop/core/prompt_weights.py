"""AUTOMATIC1111's prompt emphasis: `(word)`, `((word))`, `[word]`, `(word:1.3)`, `\\(`, and `BREAK`.

    parse_weights("a (red:1.3) fox BREAK [blue] sky")
    -> [Fragment("a ", 1.0), Fragment("red", 1.3), Fragment(" fox", 1.0), BREAK_FRAGMENT,
        Fragment("blue", 0.909...), Fragment(" sky", 1.0)]

The rules are A1111's (modules/prompt_parser.py, `parse_prompt_attention`), written here from its
documented behaviour: `(` multiplies by 1.1 and `[` divides by 1.1 up to the matching bracket;
`(text:N)` multiplies by N instead; a bracket left open applies to the end of the prompt; a
backslash makes the next bracket (or backslash) plain text; `BREAK` as a word ends the current
75-token chunk. Adjacent fragments of equal weight are merged. The engine tokenizes the fragments
and encodes them in chunks (desktop/engine/prompt_encoder.py); nothing here imports torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROUND = 1.1  # what ( ) multiplies by, and [ ] divides by
BREAK_WORD = "BREAK"

# one alternation, tried left to right at each position, like A1111's tokenizer of the prompt
_TOKEN = re.compile(
    r"""
    \\[()\[\]\\]                      # an escaped bracket or backslash: plain text
    | \\                              # a lone backslash: plain text
    | \(                              # open round: x1.1 (or :N)
    | \[                              # open square: /1.1
    | :\s*(?P<number>[+-]?[.\d]+)\s*\)  # ':1.3)' closes a round bracket with an explicit weight
    | \)                              # close round
    | \]                              # close square
    | [^\\()\[\]:]+                   # ordinary text
    | :                               # a colon that is not a weight
    """,
    re.VERBOSE,
)
_BREAK = re.compile(r"\s*\bBREAK\b\s*", re.DOTALL)


@dataclass(frozen=True)
class Fragment:
    """A piece of prompt text and the weight its tokens get; `is_break` marks a BREAK."""

    text: str
    weight: float = 1.0
    is_break: bool = False


BREAK_FRAGMENT = Fragment("", 1.0, is_break=True)


def parse_weights(prompt: str) -> list[Fragment]:
    """The prompt as weighted fragments (A1111 rules); an empty prompt is one empty fragment."""
    pieces: list[list] = []  # [text, weight, is_break], mutable while brackets close
    round_opens: list[int] = []
    square_opens: list[int] = []

    def scale(start: int, factor: float) -> None:
        for piece in pieces[start:]:
            if not piece[2]:
                piece[1] *= factor

    def add_text(text: str) -> None:
        for index, part in enumerate(_BREAK.split(text)):
            if index:
                pieces.append(["", 1.0, True])
            if part:
                pieces.append([part, 1.0, False])

    for match in _TOKEN.finditer(prompt):
        token = match.group(0)
        if token.startswith("\\"):
            pieces.append([token[1:] if len(token) == 2 else token, 1.0, False])
        elif token == "(":
            round_opens.append(len(pieces))
        elif token == "[":
            square_opens.append(len(pieces))
        elif match.group("number") is not None and round_opens:
            try:
                factor = float(match.group("number"))
            except ValueError:  # '1.2.3' is not a number: A1111 would fail; keep it as text
                add_text(token)
                continue
            scale(round_opens.pop(), factor)
        elif token == ")" and round_opens:
            scale(round_opens.pop(), ROUND)
        elif token == "]" and square_opens:
            scale(square_opens.pop(), 1 / ROUND)
        else:
            add_text(token)
    for start in round_opens:  # brackets left open weigh the rest of the prompt
        scale(start, ROUND)
    for start in square_opens:
        scale(start, 1 / ROUND)
    return _merged(pieces)


def _merged(pieces: list[list]) -> list[Fragment]:
    out: list[Fragment] = []
    for text, weight, is_break in pieces:
        if is_break:
            out.append(BREAK_FRAGMENT)
        elif out and not out[-1].is_break and out[-1].weight == weight:
            out[-1] = Fragment(out[-1].text + text, weight)
        else:
            out.append(Fragment(text, weight))
    return out or [Fragment("", 1.0)]


def is_plain(prompt: str) -> bool:
    """True when the prompt has no emphasis, escapes or BREAK: it reads the same with or without A1111 rules."""
    fragments = parse_weights(prompt)
    return len(fragments) == 1 and not fragments[0].is_break and fragments[0].weight == 1.0 \
        and fragments[0].text == prompt


def plain_text(prompt: str) -> str:
    """The prompt's words without the emphasis syntax (BREAK becomes a space), for logs and searches."""
    return "".join(" " if f.is_break else f.text for f in parse_weights(prompt))

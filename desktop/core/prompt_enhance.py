"""Prompt "Enhance": ask the chat model to rewrite a prompt the way an image-model family reads prompts.

SD 1.x/2.x were trained on alt-text scraped with CLIP: short comma-separated tags work best, and
only 75 tokens are read. SDXL (and later families) read whole sentences well. The change is shown
as a word diff to accept or reject; with a fixed seed the rewrite is reproducible.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

from desktop.core.markdown_render import fenced_blocks
from desktop.core.models import SD1, SD2

# sampling for a rewrite: a little variety, short output; the seed comes from the caller
ENHANCE_SAMPLING = {"temperature": 0.7, "top_p": 0.9, "max_new_tokens": 200}

_TAG_STYLE = (
    "You rewrite prompts for Stable Diffusion 1.x/2.x image models. Write ONE prompt as comma-separated "
    "tags, most important first: subject, details, setting, medium, style, lighting, quality tags "
    "(for example: masterpiece, best quality, highly detailed). Keep every idea of the original, add "
    "concrete visual detail, stay under 60 words. Keep any (weighted:1.2) terms and <lora:...> tags "
    "exactly. Answer with the prompt only, inside a ```prompt code block."
)
_SENTENCE_STYLE = (
    "You rewrite prompts for SDXL image models. Write ONE prompt as one to three natural, descriptive "
    "sentences: the subject and what it does, the setting, composition, lighting, medium and style. "
    "Keep every idea of the original, add concrete visual detail, stay under 80 words. Keep any "
    "<lora:...> tags exactly. Answer with the prompt only, inside a ```prompt code block."
)


def is_tag_style(family: str) -> bool:
    return family in (SD1, SD2)


def enhance_instruction(family: str) -> str:
    """The system prompt for rewriting a prompt for this image-model family."""
    return _TAG_STYLE if is_tag_style(family) else _SENTENCE_STYLE


def enhance_messages(prompt: str, family: str) -> list[dict]:
    """The chat messages that ask for a rewrite; raises ValueError for an empty prompt."""
    if not prompt.strip():
        raise ValueError("there is no prompt to enhance: type a few words first")
    return [{"role": "system", "content": enhance_instruction(family)},
            {"role": "user", "content": f"Rewrite this prompt:\n{prompt.strip()}"}]


_THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)
_LABEL = re.compile(r"^\s*\**\s*(?:(?:enhanced|improved|rewritten|new)\s+)?prompt\s*\**\s*:\s*\**\s*", re.IGNORECASE)


def extract_prompt(reply: str) -> str:
    """The rewritten prompt in a reply: a ```prompt block, else any code block, else the first line.

    Reasoning (<think>...</think>), "Prompt:" labels and wrapping quotes are removed. Empty when the
    reply holds nothing usable.
    """
    text = _THINKING.sub("", reply).strip()
    blocks = fenced_blocks(text)
    preferred = [b for b in blocks if b.language == "prompt"] or blocks
    if preferred:
        candidate = preferred[0].code
    else:
        lines = [line for line in text.splitlines() if line.strip()]
        # "Here is ...:" introductions are skipped when more follows
        if len(lines) > 1 and lines[0].rstrip().endswith(":") and not _LABEL.match(lines[0]):
            lines = lines[1:]
        candidate = lines[0] if lines else ""
    candidate = _LABEL.sub("", " ".join(candidate.split()))
    if len(candidate) >= 2 and candidate[0] == candidate[-1] and candidate[0] in "\"'`“”":
        candidate = candidate[1:-1]
    if len(candidate) >= 2 and candidate[0] == "“" and candidate[-1] == "”":
        candidate = candidate[1:-1]
    return candidate.strip()


@dataclass(frozen=True)
class DiffPiece:
    """A run of words that is the same in both prompts, added by the rewrite, or removed by it."""

    kind: str  # "same" | "added" | "removed"
    text: str


_WORDS = re.compile(r"\s+|[^\s,;]+|[,;]")


def word_diff(original: str, enhanced: str) -> list[DiffPiece]:
    """Word-level diff (commas count as words, so a tag list diffs tag by tag)."""
    before, after = _WORDS.findall(original), _WORDS.findall(enhanced)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    pieces: list[DiffPiece] = []

    def add(kind: str, words: list[str]) -> None:
        text = "".join(words)
        if not text:
            return
        if pieces and pieces[-1].kind == kind:
            pieces[-1] = DiffPiece(kind, pieces[-1].text + text)
        else:
            pieces.append(DiffPiece(kind, text))

    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            add("same", before[a1:a2])
        else:
            add("removed", before[a1:a2])
            add("added", after[b1:b2])
    return pieces


def diff_html(pieces: list[DiffPiece]) -> str:
    """The diff as escaped HTML for a QTextBrowser: removed words struck out red, added ones green."""
    styles = {"removed": '<span style="color:#c0392b;text-decoration:line-through">{}</span>',
              "added": '<span style="color:#27ae60;font-weight:bold">{}</span>', "same": "{}"}
    return "".join(styles[piece.kind].format(html.escape(piece.text)) for piece in pieces)

"""A prompt typed in A1111 syntax, as ComfyUI's CLIPTextEncode reads it: one text per BREAK-separated chunk.

ComfyUI's tokenizer reads `(word)` (x1.1, nested multiply), `(word:1.3)` and the escapes `\\(` `\\)` itself,
and splits long prompts into 75-token chunks as A1111 does. It has no `[word]` (÷1.1), its `(text:N)` sets
the weight instead of multiplying the outer one, and it has no BREAK. So a prompt that is plain text goes
as typed; any other is parsed by Atelier's own A1111 rules (desktop/core/prompt_weights.py) and written
back with one explicit weight per fragment, `(text:W)`, brackets in the text escaped, so both programs
weigh the same tokens the same. Each BREAK starts a new text: the graph encodes each and joins them with
ConditioningConcat, which is what BREAK means (the next words start a fresh 75-token chunk).

ComfyUI applies a weight its own way (towards the empty prompt's embedding, not A1111's mean-restoring
scale), so weighted prompts are close to, not bit-equal with, the local engine's; weight 1.0 is the
plain text in both.
"""

from __future__ import annotations

from desktop.core.prompt_weights import is_plain, parse_weights


def _escaped(text: str) -> str:
    return text.replace("(", "\\(").replace(")", "\\)")


def _weight(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def comfyui_chunks(prompt: str) -> list[str]:
    """The texts to encode and concatenate, in order (one when there is no BREAK; never empty)."""
    if is_plain(prompt):
        return [prompt]
    chunks: list[list[str]] = [[]]
    for fragment in parse_weights(prompt):
        if fragment.is_break:
            chunks.append([])
        elif fragment.weight == 1.0 or not fragment.text.strip():
            chunks[-1].append(_escaped(fragment.text))
        else:
            core = fragment.text.strip()  # spaces stay outside the brackets, where they were typed
            start = fragment.text.index(core)
            chunks[-1].append(f"{fragment.text[:start]}({_escaped(core)}:{_weight(fragment.weight)})"
                              f"{fragment.text[start + len(core):]}")
    texts = ["".join(parts).strip() for parts in chunks]
    return [text for text in texts if text] or [""]

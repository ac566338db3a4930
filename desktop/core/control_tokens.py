"""Chat-template control tokens (<|im_start|>, <|eot_id|>, </s>, [INST], ...) are never shown to a person.

The engine removes the tokenizer's own special tokens as they stream; this also catches a marker a
model wrote out as ordinary text, and replies saved by older versions. A role name right after a
turn marker ("<|im_start|>assistant") goes with it. Tool-call tags are not control tokens here.
"""

from __future__ import annotations

import re

_TURN = r"(?:system|user|assistant|tool|model)?"
CONTROL = re.compile(
    rf"<\|im_start\|>{_TURN}\n?"  # ChatML turn start and its role
    rf"|<\|start_header_id\|>{_TURN}<\|end_header_id\|>\n*"  # Llama 3 header
    rf"|<start_of_turn>{_TURN}\n?|<end_of_turn>\n?"  # Gemma
    r"|<\|[A-Za-z0-9_.:\-]{1,40}\|>"  # any other <|...|> marker
    r"|</?s>|\[/?INST\]|<</?SYS>>"  # Llama 2 / Mistral
)


def hide_control_tokens(text: str) -> str:
    return CONTROL.sub("", text)

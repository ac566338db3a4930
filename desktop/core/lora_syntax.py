"""`<lora:name:weight>` in a prompt, as AUTOMATIC1111 writes it: parsed out, the prompt cleaned."""

from __future__ import annotations

import re
from dataclasses import dataclass

# <lora:name>, <lora:name:0.8>, <lora:name:0.8:0.5> (A1111's separate text-encoder weight: the first one
# is used for both); <lyco:...> and <locon:...> are the same thing to Atelier
_TAG = re.compile(r"<\s*(lora|lyco|locon)\s*:\s*([^:<>]+?)\s*(?::\s*([^:<>]*?)\s*)?(?::[^<>]*)?>", re.IGNORECASE)
MAX_WEIGHT = 5.0


class LoraSyntaxError(ValueError):
    """A `<lora:...>` tag that cannot be understood, with what to write instead."""


@dataclass(frozen=True)
class LoraRef:
    """One LoRA asked for in a prompt or chosen in the panel: its name and strength."""

    name: str
    weight: float = 1.0


def _weight(tag: str, text: str | None) -> float:
    if text is None or text == "":
        return 1.0
    try:
        value = float(text)
    except ValueError:
        raise LoraSyntaxError(f"{tag}: the weight {text!r} is not a number; write e.g. <lora:name:0.8>") from None
    if not -MAX_WEIGHT <= value <= MAX_WEIGHT:
        raise LoraSyntaxError(f"{tag}: weight {value} is outside -{MAX_WEIGHT}..{MAX_WEIGHT}")
    return value


def _tidy(prompt: str) -> str:
    prompt = re.sub(r"[ \t]+", " ", prompt)
    prompt = re.sub(r"\s*,(\s*,)+", ",", prompt)  # "a, , b" left where a tag stood
    prompt = re.sub(r" +([,.])", r"\1", prompt)
    return "\n".join(line.strip(" ,") for line in prompt.splitlines()).strip()


def parse_loras(prompt: str) -> tuple[str, list[LoraRef]]:
    """The prompt without its LoRA tags, and the LoRAs in order (a name given twice: the last weight wins)."""
    found: dict[str, LoraRef] = {}
    for match in _TAG.finditer(prompt):
        name = match.group(2).strip()
        ref = LoraRef(name, _weight(match.group(0), match.group(3)))
        found.pop(name.lower(), None)
        found[name.lower()] = ref
    cleaned = _TAG.sub(" ", prompt)
    return (_tidy(cleaned) if found else prompt), list(found.values())


def merge_choices(prompt_refs: list[LoraRef], panel_refs: list[LoraRef]) -> list[LoraRef]:
    """LoRAs chosen in the panel plus those written in the prompt; the prompt's weight wins for a name in both."""
    merged = {ref.name.lower(): ref for ref in panel_refs}
    merged.update({ref.name.lower(): ref for ref in prompt_refs})
    return [ref for ref in merged.values() if ref.weight != 0.0]


def format_tag(ref: LoraRef) -> str:
    return f"<lora:{ref.name}:{ref.weight:g}>"

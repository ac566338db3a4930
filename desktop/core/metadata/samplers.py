"""Sampler names: Atelier's schedulers and what A1111, ComfyUI, InvokeAI, NovelAI and Fooocus call them."""

from __future__ import annotations

import re

from desktop.core.params import SCHEDULERS

# Atelier's scheduler names are A1111's sampler names; kept as a table so either side can change.
_TO_A1111 = {name: name for name in SCHEDULERS}

# Normalised foreign name -> Atelier scheduler. Normalising folds "DPM++ 2M Karras", "dpmpp_2m_karras",
# "k_dpmpp_2m" and "DPM++ 2M" + schedule "Karras" together.
_TO_ATELIER = {
    "euler_a": "Euler a",
    "euler_ancestral": "Euler a",
    "euler": "Euler",
    "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_karras": "DPM++ 2M Karras",
    "dpmpp_2m_k": "DPM++ 2M Karras",
    "ddim": "DDIM",
    "lcm": "LCM",
    "tcd": "TCD",
}


def _normalise(name: str) -> str:
    text = name.strip().lower().replace("++", "pp")
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    return text[2:] if text.startswith("k_") else text


def to_a1111(scheduler: str) -> str:
    """A1111's sampler name for an Atelier scheduler."""
    return _TO_A1111.get(scheduler, scheduler)


def to_atelier(sampler: object, schedule: object = None) -> str | None:
    """Atelier's scheduler for a sampler name written by any tool, or None when there is no match.

    `schedule` is the separate noise-schedule name newer A1111 ("Schedule type") and ComfyUI write.
    """
    if not isinstance(sampler, str) or len(sampler) > 100:
        return None
    key = _normalise(sampler)
    if isinstance(schedule, str) and _normalise(schedule) == "karras" and not key.endswith(("karras", "_k")):
        key += "_karras"
    found = _TO_ATELIER.get(key)
    if found is None and key.endswith("_karras"):  # Euler Karras and the like: the nearest sampler
        found = _TO_ATELIER.get(key[: -len("_karras")])
    return found

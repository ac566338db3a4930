"""Fooocus: `parameters` as JSON (scheme `fooocus`) or as A1111 text (scheme `a1111`), named by `fooocus_scheme`."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from desktop.core.metadata import a1111
from desktop.core.metadata.coerce import MAX_PROMPT, as_float, as_int, as_text, loads_json, short, unreadable
from desktop.core.metadata.info import GenerationInfo

_RESOLUTION = re.compile(r"\(?\s*(\d{1,6})\s*[,x*×]\s*(\d{1,6})\s*\)?")
_SHOWN = ("styles", "performance", "sharpness", "adm_guidance", "refiner_model", "refiner_switch", "vae",
          "base_model_hash", "version", "created_by", "prompt_expansion")


def looks_like_fooocus(data: Any) -> bool:
    return isinstance(data, dict) and ("fooocus" in str(data.get("version", "")).lower() or
                                       {"base_model", "guidance_scale", "resolution"} <= set(data))


def parse(text: Any, scheme: Any = None) -> GenerationInfo:
    data = loads_json(text)
    if not isinstance(data, dict):
        if isinstance(text, str) and str(scheme).strip().lower() == "a1111":
            return replace(a1111.parse(text), tool="fooocus")
        return GenerationInfo(notes=("Fooocus parameters are not valid JSON",))
    width = height = None
    match = _RESOLUTION.fullmatch(str(data.get("resolution", "")).strip()[:40])
    if match:
        width, height = int(match.group(1)), int(match.group(2))
    loras = []
    listed = data.get("loras") if isinstance(data.get("loras"), list) else []
    for name, weight, *_ in (item for item in listed[:100] if isinstance(item, list) and len(item) >= 2):
        loras.append({"name": as_text(name, 500), "weight": as_float(weight)})
    for key, value in sorted(data.items()):  # older versions: lora_combined_1 = "name.safetensors : 0.5"
        if isinstance(key, str) and key.startswith("lora_combined_") and isinstance(value, str) and " : " in value:
            name, weight = value.rsplit(" : ", 1)
            loras.append({"name": name[:500], "weight": as_float(weight)})
    extra = {key: short(data[key]) for key in _SHOWN if data.get(key) not in (None, "", "None", [])}
    if data.get("scheduler"):
        extra["schedule"] = as_text(data["scheduler"], 100)
    if loras:
        extra["loras"] = loras[:100]
    info = GenerationInfo(
        tool="fooocus",
        prompt=as_text(data.get("prompt"), MAX_PROMPT),
        negative_prompt=as_text(data.get("negative_prompt"), MAX_PROMPT),
        seed=as_int(data.get("seed")),
        steps=as_int(data.get("steps")),
        cfg_scale=as_float(data.get("guidance_scale")),
        sampler=as_text(data.get("sampler"), 100),
        width=width,
        height=height,
        model=as_text(data.get("base_model"), 500),
        extra=extra,
    )
    raw = {"seed": data.get("seed"), "steps": data.get("steps"), "cfg_scale": data.get("guidance_scale"),
           "width": data.get("resolution")}
    return info.with_notes(*unreadable(info, raw))

"""NovelAI: `Comment` holds the request as JSON (prompt, uc, steps, scale, seed, sampler, ...),
`Description` the prompt, `Source` the model, `Software` says "NovelAI"."""

from __future__ import annotations

from typing import Any, Mapping

from desktop.core.metadata.coerce import MAX_PROMPT, as_dict, as_float, as_int, as_text, loads_json, short, unreadable
from desktop.core.metadata.info import GenerationInfo

_SHOWN = ("noise_schedule", "sm", "sm_dyn", "cfg_rescale", "uncond_scale", "strength", "noise", "request_type",
          "n_samples", "version")


def looks_like_novelai(fields: Mapping[str, str]) -> bool:
    return "novelai" in str(fields.get("Software", "")).lower() or (
        "Comment" in fields and '"uc"' in fields["Comment"][:200_000]
    )


def _v4_caption(block: Any) -> str | None:
    """V4 prompts: {"caption": {"base_caption": "...", "char_captions": [{"char_caption": "..."}]}}."""
    caption = as_dict(as_dict(block).get("caption"))
    base = as_text(caption.get("base_caption"), MAX_PROMPT)
    if base is None:
        return None
    characters = caption.get("char_captions")
    chars = [as_text(as_dict(c).get("char_caption")) for c in characters[:20]] if isinstance(characters, list) else []
    return " | ".join([base, *[c for c in chars if c]])[:MAX_PROMPT]


def parse(fields: Mapping[str, str]) -> GenerationInfo:
    data = loads_json(fields.get("Comment"))
    notes: list[str] = []
    if not isinstance(data, dict):
        data = {}
        notes.append("the NovelAI Comment is not valid JSON: only the description was read")
    prompt = as_text(data.get("prompt"), MAX_PROMPT) or _v4_caption(data.get("v4_prompt"))
    if prompt is None:
        prompt = as_text(fields.get("Description"), MAX_PROMPT)
    negative = as_text(data.get("uc"), MAX_PROMPT) or _v4_caption(data.get("v4_negative_prompt"))
    extra = {key: short(data[key]) for key in _SHOWN if data.get(key) not in (None, "", [])}
    for key in ("Source", "Generation time", "Software"):
        if fields.get(key):
            extra[key.lower().replace(" ", "_")] = fields[key][:500]
    if data.get("noise_schedule"):
        extra["schedule"] = as_text(data["noise_schedule"], 100)
    info = GenerationInfo(
        tool="novelai",
        prompt=prompt,
        negative_prompt=negative,
        seed=as_int(data.get("seed")),
        steps=as_int(data.get("steps")),
        cfg_scale=as_float(data.get("scale")),
        sampler=as_text(data.get("sampler"), 100),
        width=as_int(data.get("width")),
        height=as_int(data.get("height")),
        model=as_text(fields.get("Source"), 500),
        extra=extra,
        notes=tuple(notes),
    )
    raw = {"seed": data.get("seed"), "steps": data.get("steps"), "cfg_scale": data.get("scale"),
           "width": data.get("width"), "height": data.get("height")}
    return info.with_notes(*unreadable(info, raw))

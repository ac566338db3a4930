"""InvokeAI: `invokeai_metadata` (3.x and later), and the 2.x `sd-metadata` JSON and `Dream` command line."""

from __future__ import annotations

import re
import shlex
from typing import Any

from desktop.core.metadata.coerce import MAX_PROMPT, as_dict, as_float, as_int, as_text, loads_json, short, unreadable
from desktop.core.metadata.info import GenerationInfo

_NEGATIVE_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def _model_name(model: Any) -> str | None:
    """4.x+: {"name", "key", "hash", "base"}; 3.x: {"model_name", "base_model"}; older: a string."""
    if isinstance(model, str):
        return model[:500]
    model = as_dict(model)
    return as_text(model.get("name") or model.get("model_name"), 500)


def _loras(items: Any) -> list[dict]:
    loras = []
    for item in items if isinstance(items, list) else []:
        item = as_dict(item)
        model = item.get("model") or item.get("lora")
        name = _model_name(model)
        if name:
            loras.append({"name": name, "weight": as_float(item.get("weight"))})
    return loras[:100]


def parse_metadata(text: Any) -> GenerationInfo:
    """The `invokeai_metadata` JSON written by InvokeAI 3.0 onwards."""
    data = loads_json(text)
    if not isinstance(data, dict):
        return GenerationInfo(notes=("invokeai_metadata is not a JSON object",))
    extra: dict[str, Any] = {}
    for key in ("generation_mode", "app_version", "strength", "clip_skip", "cfg_rescale_multiplier",
                "positive_style_prompt", "negative_style_prompt", "rand_device"):
        if key in data and data[key] not in (None, ""):
            extra[key] = short(data[key])
    if "strength" in extra and "img2img" in str(data.get("generation_mode", "")):
        extra["mode"], extra["denoising_strength"] = "img2img", as_float(data.get("strength"))
    if data.get("vae"):
        extra["vae"] = _model_name(data["vae"])
    if model := as_dict(data.get("model")):
        for source, target in (("hash", "model_hash"), ("base", "model_base"), ("base_model", "model_base")):
            if model.get(source):
                extra[target] = short(model[source])
    loras = _loras(data.get("loras"))
    if loras:
        extra["loras"] = loras
    info = GenerationInfo(
        tool="invokeai",
        prompt=as_text(data.get("positive_prompt"), MAX_PROMPT),
        negative_prompt=as_text(data.get("negative_prompt"), MAX_PROMPT),
        seed=as_int(data.get("seed")),
        steps=as_int(data.get("steps")),
        cfg_scale=as_float(data.get("cfg_scale")),
        sampler=as_text(data.get("scheduler"), 100),
        width=as_int(data.get("width")),
        height=as_int(data.get("height")),
        model=_model_name(data.get("model")),
        extra=extra,
    )
    raw = {"seed": data.get("seed"), "steps": data.get("steps"), "cfg_scale": data.get("cfg_scale"),
           "width": data.get("width"), "height": data.get("height"), "model": data.get("model"),
           "prompt": data.get("positive_prompt")}
    return info.with_notes(*unreadable(info, raw))


def split_negative(prompt: str) -> tuple[str, str]:
    """InvokeAI 2.x kept the negative prompt inside the prompt, in [square brackets]."""
    negative = ", ".join(part.strip() for part in _NEGATIVE_BRACKETS.findall(prompt) if part.strip())
    positive = _NEGATIVE_BRACKETS.sub("", prompt)
    return re.sub(r"\s{2,}", " ", positive).strip(), negative


def parse_sd_metadata(text: Any) -> GenerationInfo:
    """InvokeAI 2.x `sd-metadata`: {"model_weights", "app_version", "image": {"prompt", "seed", ...}}."""
    data = loads_json(text)
    if not isinstance(data, dict):
        return GenerationInfo(notes=("sd-metadata is not a JSON object",))
    image = as_dict(data.get("image"))
    prompt = image.get("prompt")
    if isinstance(prompt, list):  # [{"prompt": "...", "weight": 1.0}, ...]
        prompt = " ".join(as_text(as_dict(p).get("prompt")) or "" for p in prompt[:100])
    positive, negative = split_negative(as_text(prompt, MAX_PROMPT) or "")
    extra = {k: short(data[k]) for k in ("app_id", "app_version", "model_hash") if data.get(k)}
    for key in ("type", "strength", "threshold", "perlin", "seamless", "hires_fix", "variations", "postprocessing"):
        if image.get(key) not in (None, "", [], False, 0):
            extra[key] = short(image[key])
    return GenerationInfo(
        tool="invokeai",
        prompt=positive,
        negative_prompt=negative,
        seed=as_int(image.get("seed")),
        steps=as_int(image.get("steps")),
        cfg_scale=as_float(image.get("cfg_scale")),
        sampler=as_text(image.get("sampler"), 100),
        width=as_int(image.get("width")),
        height=as_int(image.get("height")),
        model=as_text(data.get("model_weights"), 500) or as_text(data.get("model"), 500),
        extra=extra,
    )


_DREAM_OPTIONS = {  # short and long flags of the 2.x `dream>` command line
    "-s": "steps", "--steps": "steps", "-S": "seed", "--seed": "seed", "-W": "width", "--width": "width",
    "-H": "height", "--height": "height", "-C": "cfg_scale", "--cfg_scale": "cfg_scale",
    "-A": "sampler", "--sampler": "sampler", "-f": "strength", "--strength": "strength",
    "-m": "model", "--model": "model", "-I": "init_img", "--init_img": "init_img",
}


def parse_dream(text: Any) -> GenerationInfo:
    """InvokeAI 2.x `Dream`: `"a cat [blurry]" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms`."""
    if not isinstance(text, str) or not text.strip():
        return GenerationInfo(notes=("the Dream text is empty",))
    text = text[:MAX_PROMPT]
    notes: list[str] = []
    try:
        words = shlex.split(text)
    except ValueError:
        words, notes = text.split(), ["the Dream command line has an unclosed quote"]
    prompt_words: list[str] = []
    values: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        name = _DREAM_OPTIONS.get(word)
        if name is None and word.startswith("-") and len(word) > 2 and word[:2] in _DREAM_OPTIONS:
            name, word = _DREAM_OPTIONS[word[:2]], word[:2] + " " + word[2:]  # -s50 style
            values[name] = word.split(" ", 1)[1]
        elif name is not None and index + 1 < len(words):
            values[name] = words[index + 1]
            index += 1
        elif not word.startswith("-"):
            prompt_words.append(word)
        index += 1
    positive, negative = split_negative(" ".join(prompt_words))
    extra = {k: v for k, v in values.items() if k in ("strength", "init_img")}
    return GenerationInfo(
        tool="invokeai",
        prompt=positive,
        negative_prompt=negative,
        seed=as_int(values.get("seed")),
        steps=as_int(values.get("steps")),
        cfg_scale=as_float(values.get("cfg_scale")),
        sampler=values.get("sampler"),
        width=as_int(values.get("width")),
        height=as_int(values.get("height")),
        model=values.get("model"),
        extra=extra,
        notes=tuple(notes),
    )

"""AUTOMATIC1111's `parameters` text (also Forge and SD.Next): write it for Atelier images, read anyone's.

Layout: prompt lines, then `Negative prompt: ...` lines, then one line of `Key: value` pairs
(`Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model hash: 45dee52b, Model: x`).
Values holding `,` `:` or a newline are JSON-quoted.
"""

from __future__ import annotations

import json

from desktop import __version__
from desktop.core import fast_mode
from desktop.core.metadata import controlnet, samplers
from desktop.core.metadata.coerce import MAX_PROMPT, MAX_TEXT, as_float, as_int
from desktop.core.metadata.info import GenerationInfo
from desktop.core.params import GenerationParams

NEGATIVE = "Negative prompt:"
_MAX_PAIRS = 500


def quote(value: object) -> str:
    text = str(value)
    if "," not in text and ":" not in text and "\n" not in text and not text.startswith('"'):
        return text
    return json.dumps(text, ensure_ascii=False)


def _lora_weight(weight: float) -> str:
    return f"{weight:.4f}".rstrip("0").rstrip(".")


def format_parameters(
    params: GenerationParams, model_name: str = "", model_hash: str = "", app_version: str = __version__,
    size: tuple[int, int] | None = None,
) -> str:
    """The A1111 `parameters` text for an Atelier image; LoRAs go into the prompt as A1111 writes them.

    `size` is the picture's own size when it differs from the generation's (an exported canvas).
    """
    prompt = params.prompt + "".join(f" <lora:{name}:{_lora_weight(w)}>" for name, w in params.loras)
    lines = [prompt]
    if params.negative_prompt:
        lines.append(f"{NEGATIVE} {params.negative_prompt}")
    pairs = [
        ("Steps", params.steps),
        ("Sampler", samplers.to_a1111(params.scheduler)),
        ("CFG scale", f"{params.guidance:g}"),
        ("Seed", params.seed),
        ("Size", "{}x{}".format(*(size or (params.width, params.height)))),
    ]
    if model_hash:
        pairs.append(("Model hash", model_hash))
    if model_name or params.model:
        pairs.append(("Model", model_name or params.model))
    if params.vae:
        pairs.append(("VAE", params.vae))
    if params.mode != "txt2img":
        pairs.append(("Denoising strength", f"{params.strength:g}"))
    elif params.hires_scale:  # A1111's hires fix fields, in its own order
        pairs += [("Denoising strength", f"{params.hires_strength:g}"), ("Hires upscale", f"{params.hires_scale:g}")]
        if params.hires_steps:
            pairs.append(("Hires steps", params.hires_steps))
        pairs.append(("Hires upscaler", params.hires_upscaler or "Latent"))
    pairs += fast_mode.a1111_fields(params)  # the few-step recipe and the feature cache, when Fast mode ran
    pairs += [(key[:1].upper() + key[1:], value) for key, value in params.extra]  # e.g. Server: the ComfyUI that made it
    pairs += controlnet.unit_pairs(params)  # control layers and references, as sd-webui-controlnet writes them
    pairs.append(("Version", f"Atelier {app_version}"))
    lines.append(", ".join(f"{key}: {quote(value)}" for key, value in pairs))
    return "\n".join(lines)


def split_pairs(line: str) -> list[tuple[str, str]]:
    """`Key: value, Key: "quoted, value"` -> pairs, in one pass (no backtracking on hostile text)."""
    pairs: list[tuple[str, str]] = []
    n, i, next_colon, next_comma = len(line), 0, -1, -1
    while i < n and len(pairs) < _MAX_PAIRS:
        if next_colon < i:
            next_colon = line.find(":", i)
            next_colon = n if next_colon < 0 else next_colon
        if next_comma < i:
            next_comma = line.find(",", i)
            next_comma = n if next_comma < 0 else next_comma
        if next_colon > next_comma or next_colon >= n:  # a piece with no key: skip it
            i = next_comma + 1
            continue
        key = line[i:next_colon].strip()
        j = next_colon + 1
        while j < n and line[j] == " ":
            j += 1
        if j < n and line[j] == '"':
            end = j + 1
            while end < n and line[end] != '"':
                end += 2 if line[end] == "\\" else 1
            raw = line[j : end + 1]
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw.strip('"')
            if not isinstance(value, str):
                value = raw
            i = end + 1
            comma = line.find(",", i)
            i = n if comma < 0 else comma + 1
        else:
            value = line[j:next_comma].strip()
            i = next_comma + 1
        if key and len(key) <= 100:
            pairs.append((key, value))
    return pairs


def _looks_like_parameters(pairs: list[tuple[str, str]]) -> bool:
    keys = {key for key, _ in pairs}
    return len(pairs) >= 3 or bool(keys & {"Steps", "Seed", "Sampler"}) and len(pairs) >= 2


def parse(text: str) -> GenerationInfo:
    """Read an A1111/Forge/SD.Next `parameters` text."""
    notes: list[str] = []
    if len(text) > MAX_TEXT:
        text, notes = text[:MAX_TEXT], ["parameters text was cut: it is larger than 8 MB"]
    lines = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    pairs = split_pairs(lines[-1]) if lines else []
    if _looks_like_parameters(pairs):
        lines = lines[:-1]
    else:
        pairs = []
        notes.append("no settings line (Steps, Sampler, Seed, ...) found: only the prompt was read")
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    for line in lines:
        if not negative_lines and line.startswith(NEGATIVE):
            rest = line[len(NEGATIVE) :]
            negative_lines.append(rest[1:] if rest.startswith(" ") else rest)
        elif negative_lines:
            negative_lines.append(line)
        else:
            prompt_lines.append(line)
    prompt, negative = "\n".join(prompt_lines), "\n".join(negative_lines)
    if len(prompt) > MAX_PROMPT or len(negative) > MAX_PROMPT:
        notes.append(f"prompt cut to {MAX_PROMPT} characters")
    values = dict(pairs)
    width = height = None
    size = values.pop("Size", "")
    if size:
        width, _, height = (as_int(part) for part in size.partition("x"))
        if width is None or height is None:
            width = height = None
            notes.append(f"size {size[:40]!r} is not WIDTHxHEIGHT")
    extra: dict = {}
    for source, target, convert in (
        ("Model hash", "model_hash", str),
        ("Schedule type", "schedule", str),
        ("Denoising strength", "denoising_strength", as_float),
        ("Version", "version", str),
        ("VAE", "vae", str),
    ):
        if source in values:
            extra[target] = convert(values.pop(source))
    seed, steps, cfg = values.pop("Seed", None), values.pop("Steps", None), values.pop("CFG scale", None)
    for name, raw, parsed in (("seed", seed, as_int(seed)), ("steps", steps, as_int(steps)), ("CFG scale", cfg, as_float(cfg))):
        if raw is not None and parsed is None:
            notes.append(f"{name} {raw[:40]!r} is not a number")
    units = controlnet.pop_units(values, split_pairs)
    if units:
        extra["controlnet"] = units
    model, sampler = values.pop("Model", None), values.pop("Sampler", None)
    extra.update({key: value[:MAX_PROMPT] for key, value in values.items()})
    return GenerationInfo(
        tool=_tool(extra),
        prompt=prompt[:MAX_PROMPT],
        negative_prompt=negative[:MAX_PROMPT],
        seed=as_int(seed),
        steps=as_int(steps),
        cfg_scale=as_float(cfg),
        sampler=sampler,
        width=width,
        height=height,
        model=model,
        extra=extra,
        notes=tuple(notes),
    )


def _tool(extra: dict) -> str:
    version, app = str(extra.get("version", "")), str(extra.get("App", ""))
    if version.startswith("Atelier"):
        return "atelier"
    if "sd.next" in app.lower() or "sdnext" in app.lower():
        return "sdnext"
    if "fooocus" in version.lower():
        return "fooocus"
    if len(version) > 1 and version[0] == "f" and version[1].isdigit():  # Forge: f0.0.17v1.8.0, f2.0.1v1.10.1
        return "forge"
    return "automatic1111"

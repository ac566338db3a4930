"""GenerationInfo: what one image says about how it was made, whichever tool made it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from desktop.core.metadata import samplers
from desktop.core.params import (
    DEFAULT_MAX_PIXELS,
    MAX_GUIDANCE,
    MAX_SEED,
    MAX_STEPS,
    GenerationParams,
    ParamError,
    nearest_valid_side,
)

# Display names for the `tool` ids readers put in GenerationInfo.tool.
TOOL_LABELS = {
    "atelier": "Atelier",
    "automatic1111": "AUTOMATIC1111",
    "forge": "Forge",
    "sdnext": "SD.Next",
    "comfyui": "ComfyUI",
    "invokeai": "InvokeAI",
    "fooocus": "Fooocus",
    "novelai": "NovelAI",
}
NO_DATA = "no generation data found"
JSON_KEYS = ("tool", "prompt", "negative_prompt", "seed", "steps", "cfg_scale", "sampler", "width", "height", "model")

_LORA_TAG = re.compile(r" ?<lora:([^:<>]{1,200}):(-?\d{1,3}(?:\.\d{1,6})?)(?::[^<>]{0,50})?>")


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class GenerationInfo:
    """The generation settings recovered from one image file, plus notes on what could not be read."""

    tool: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    sampler: str | None = None  # as the source tool wrote it
    width: int | None = None
    height: int | None = None
    model: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    # Atelier's own record (GenerationParams.to_dict()) when the image came from Atelier: exact reuse.
    atelier_params: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", _frozen(self.extra))
        object.__setattr__(self, "notes", tuple(self.notes))
        if self.atelier_params is not None:
            object.__setattr__(self, "atelier_params", _frozen(self.atelier_params))

    @property
    def found(self) -> bool:
        return self.tool is not None

    @property
    def tool_label(self) -> str:
        return TOOL_LABELS.get(self.tool or "", self.tool or "unknown")

    def with_notes(self, *notes: str) -> "GenerationInfo":
        from dataclasses import replace

        return replace(self, notes=self.notes + tuple(n for n in notes if n and n not in self.notes))

    def to_json_dict(self) -> dict:
        """The `info --json` object: the fixed keys (null where unknown) plus `extra`."""
        data = {key: getattr(self, key) for key in JSON_KEYS}
        extra = {k: _plain(v) for k, v in self.extra.items()}
        if self.atelier_params is not None:
            extra["atelier"] = _plain(self.atelier_params)
        if self.notes:
            extra["notes"] = list(self.notes)
        data["extra"] = extra
        return data

    def to_params(self, base: GenerationParams | None = None) -> GenerationParams:
        return self.adapt(base)[0]

    def adapt(self, base: GenerationParams | None = None) -> tuple[GenerationParams, tuple[str, ...]]:
        """The closest GenerationParams Atelier can use, and what had to be left at `base`'s values."""
        base = base or GenerationParams()
        dropped: list[str] = []
        if self.atelier_params is not None:
            try:
                return GenerationParams.from_dict(dict(self.atelier_params)), ()
            except (ParamError, TypeError, ValueError) as error:
                dropped.append(f"Atelier settings were partly unusable ({error})")
        changes: dict[str, Any] = {}
        prompt, loras = split_lora_tags(self.prompt or "")
        if self.prompt is not None:
            changes["prompt"] = prompt
        if not loras:  # other tools list LoRAs beside the prompt: [{"name": ..., "weight": ...}]
            loras = _listed_loras(self.extra.get("loras"))
        if loras:
            changes["loras"] = loras
        if self.negative_prompt is not None:
            changes["negative_prompt"] = self.negative_prompt
        if self.model:
            changes["model"] = self.model
        if self.seed is not None:
            if 0 <= self.seed <= MAX_SEED:
                changes["seed"] = self.seed
            else:
                dropped.append(f"seed {self.seed} is outside 0..{MAX_SEED}")
        if self.steps is not None:
            if 1 <= self.steps <= MAX_STEPS:
                changes["steps"] = self.steps
            else:
                dropped.append(f"steps {self.steps} is outside 1..{MAX_STEPS}")
        if self.cfg_scale is not None:
            if 0 <= self.cfg_scale <= MAX_GUIDANCE:
                changes["guidance"] = float(self.cfg_scale)
            else:
                dropped.append(f"CFG scale {self.cfg_scale:g} is outside 0..{MAX_GUIDANCE:g}")
        if self.sampler:
            scheduler = samplers.to_atelier(self.sampler, self.extra.get("schedule"))
            if scheduler:
                changes["scheduler"] = scheduler
            else:
                dropped.append(f"sampler {self.sampler!r} has no Atelier equivalent")
        if self.width and self.height:
            width, height = nearest_valid_side(self.width), nearest_valid_side(self.height)
            if width * height <= DEFAULT_MAX_PIXELS:
                changes["width"], changes["height"] = width, height
                if (width, height) != (self.width, self.height):
                    dropped.append(f"size {self.width}x{self.height} snapped to {width}x{height}")
            else:
                dropped.append(f"size {self.width}x{self.height} is larger than Atelier allows")
        if self.extra.get("controlnet"):  # A1111's ControlNet units: the layers they name, marked again on reuse
            from desktop.core.metadata.controlnet import specs_from_units

            controls, references, unusable = specs_from_units(_plain(self.extra["controlnet"]))
            changes.update({k: v for k, v in (("controls", controls), ("references", references)) if v})
            dropped.extend(unusable)
        strength = self.extra.get("denoising_strength")
        if isinstance(strength, (int, float)) and 0 < strength <= 1 and self.extra.get("mode") == "img2img":
            changes["mode"], changes["strength"] = "img2img", float(strength)
        changes.update(_hires_changes(self.extra, strength))
        try:
            return base.replace(**changes), tuple(dropped)
        except (ParamError, TypeError, ValueError) as error:  # one bad value must not lose the rest
            kept = {}
            for key, value in changes.items():
                try:
                    base.replace(**kept, **{key: value})
                    kept[key] = value
                except (ParamError, TypeError, ValueError):
                    dropped.append(f"{key} {value!r} is not usable")
            return base.replace(**kept), tuple(dropped) or (str(error),)


def _hires_changes(extra: Mapping[str, Any], strength: Any) -> dict[str, Any]:
    """A1111's `Hires upscale` / `Hires upscaler` / `Hires steps` (with `Denoising strength`) as params."""
    from desktop.core.metadata.coerce import as_float, as_int

    scale = as_float(extra.get("Hires upscale"))
    if not isinstance(scale, (int, float)) or not 1 < scale <= 4:
        return {}
    changes: dict[str, Any] = {"hires_scale": float(scale), "hires_upscaler": str(extra.get("Hires upscaler") or "Latent")}
    if isinstance(strength, (int, float)) and 0 < strength <= 1:
        changes["hires_strength"] = float(strength)
    steps = as_int(extra.get("Hires steps"))
    if isinstance(steps, int) and 0 <= steps <= MAX_STEPS:
        changes["hires_steps"] = steps
    return changes


def split_lora_tags(prompt: str) -> tuple[str, tuple[tuple[str, float], ...]]:
    """A1111 writes LoRAs into the prompt as <lora:name:weight>; Atelier keeps them as settings."""
    loras = tuple((m.group(1).strip(), float(m.group(2))) for m in _LORA_TAG.finditer(prompt))
    if not loras:
        return prompt, ()
    return _LORA_TAG.sub("", prompt).strip(), loras


def _listed_loras(items: Any) -> tuple[tuple[str, float], ...]:
    found = []
    for item in items if isinstance(items, (list, tuple)) else ():
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            name, weight = item["name"], item.get("weight")
        elif isinstance(item, (list, tuple)) and len(item) >= 2 and isinstance(item[0], str):
            name, weight = item[0], item[1]
        else:
            continue
        stem = name.replace("\\", "/").rsplit("/", 1)[-1]
        for suffix in (".safetensors", ".ckpt", ".pt", ".bin"):
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
        if stem and isinstance(weight, (int, float)) and not isinstance(weight, bool) and abs(weight) <= 100:
            found.append((stem, float(weight)))
    return tuple(found)


def _plain(value: Any) -> Any:
    """JSON-ready copy of a value (mapping proxies and tuples become dicts and lists)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)

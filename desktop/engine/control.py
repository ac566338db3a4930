"""ControlNet models: find them by name, load them offline (folders and single files), refuse the wrong family,
and build the ControlNet variant of the loaded pipeline with `from_pipe` (it shares every module).

Single .safetensors ControlNets (diffusers or original/A1111 key layout) load with the weightless config
skeletons in resources/model_configs/controlnet_sd15 and controlnet_sdxl: no network, ever (facts.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from desktop.core.models import CONTROLNET, SD1, SD2, SDXL, UNKNOWN, ModelEntry, controlnet_family

SKELETONS = {SD1: "controlnet_sd15", SDXL: "controlnet_sdxl"}


class SteeringModelError(ValueError):
    """A steering model that is missing or does not fit the loaded model; the message says what to do."""


def find_entry(name: str, entries: Sequence[ModelEntry], kinds: tuple[str, ...], what: str, folder: str) -> ModelEntry:
    """A model of one of `kinds` by name (any case) or path; SteeringModelError naming the known ones otherwise."""
    known = [e for e in entries if e.kind in kinds]
    for match in (lambda e: e.name == name or e.path == name, lambda e: e.name.lower() == name.lower()):
        found = [e for e in known if match(e)]
        if found:
            if found[0].problem:
                raise SteeringModelError(f"the {what} {name!r} cannot be used: {found[0].problem}")
            return found[0]
    names = ", ".join(sorted(e.name for e in known)) or f"none (put them in models/{folder})"
    if not name:
        raise SteeringModelError(f"choose a {what}; installed: {names}")
    raise SteeringModelError(f"no {what} named {name!r}; installed: {names}")


def pipeline_family(pipe) -> str:
    if getattr(pipe, "text_encoder_2", None) is not None:
        return SDXL
    return {768: SD1, 1024: SD2}.get(pipe.unet.config.cross_attention_dim, UNKNOWN)


def check_fits(name: str, family: str, config, pipe, loaded_family: str) -> None:
    """Refuse a ControlNet made for another model family, before it runs (tiny models: by their widths)."""
    model_family = loaded_family or pipeline_family(pipe)
    if family != UNKNOWN and model_family != UNKNOWN and family != model_family:
        raise SteeringModelError(f"ControlNet {name!r} was made for {family} models; the loaded model is "
                                 f"{model_family}. Pick a {model_family} ControlNet or switch to a {family} model")
    if config is None:
        return
    width, expected = config.get("cross_attention_dim"), pipe.unet.config.cross_attention_dim
    sdxl_net = config.get("addition_embed_type") == "text_time"
    sdxl_unet = pipe.unet.config.get("addition_embed_type") == "text_time"
    if width != expected or sdxl_net != sdxl_unet:
        raise SteeringModelError(f"ControlNet {name!r} does not fit the loaded model ({model_family}): its text "
                                 f"features are {width} wide, the model's {expected}")


def _skeleton(family: str) -> Path:
    from desktop.engine import single_file

    if family not in SKELETONS:
        raise SteeringModelError(f"Atelier has no configuration for {family} ControlNet files; it loads SD 1.x and "
                                 "SDXL ones (or any ControlNet as a diffusers folder)")
    return single_file.RESOURCES / SKELETONS[family]


def load_controlnet(entry: ModelEntry, pipe, loaded_family: str, dtype: torch.dtype):
    """The ControlNetModel of a discovered entry, checked against the loaded pipeline."""
    from diffusers import ControlNetModel

    from desktop.engine.single_file import quiet

    quiet()
    path = Path(entry.path)
    check_fits(entry.name, entry.family, None, pipe, loaded_family)
    try:
        if path.is_file():
            family = entry.family if entry.family != UNKNOWN else (loaded_family or pipeline_family(pipe))
            model = ControlNetModel.from_single_file(str(path), config=str(_skeleton(family)), local_files_only=True,
                                                     torch_dtype=dtype)
        else:
            model = ControlNetModel.from_pretrained(str(path), local_files_only=True, torch_dtype=dtype)
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        reason = str(error).split(". If you")[0][:300]
        raise SteeringModelError(f"ControlNet {entry.name!r} could not be loaded ({reason}); it may be damaged or "
                                 "made for another architecture") from error
    check_fits(entry.name, controlnet_family(dict(model.config)), model.config, pipe, loaded_family)
    return model.eval()


def controlnet_entries(specs, entries: Sequence[ModelEntry]) -> list[ModelEntry]:
    return [find_entry(spec.model, entries, (CONTROLNET,), "ControlNet", "controlnet") for spec in specs]


def control_pipeline(base, mode: str, controlnets: list):
    """The ControlNet pipeline for `mode` built from the loaded one; several models become a MultiControlNet."""
    from diffusers import (
        AutoPipelineForImage2Image,
        AutoPipelineForInpainting,
        AutoPipelineForText2Image,
        MultiControlNetModel,
    )

    factory = {"txt2img": AutoPipelineForText2Image, "img2img": AutoPipelineForImage2Image,
               "inpaint": AutoPipelineForInpainting}[mode]
    controlnet = controlnets[0] if len(controlnets) == 1 else MultiControlNetModel(controlnets)
    pipe = factory.from_pipe(base, controlnet=controlnet)  # shares the loaded modules: ~0.1 s, no memory
    pipe.set_progress_bar_config(disable=True)
    return pipe


def control_arguments(mode: str, specs, images: list) -> dict:
    """The pipeline call's ControlNet arguments: one value per control, plain values for a single one."""
    one = len(specs) == 1

    def values(items):
        return items[0] if one else list(items)

    key = "image" if mode == "txt2img" else "control_image"
    return {key: values(images),
            "controlnet_conditioning_scale": values([float(s.weight) for s in specs]),
            "control_guidance_start": values([float(s.start) for s in specs]),
            "control_guidance_end": values([float(s.end) for s in specs])}

"""What a Fast mode recipe changes in the pipeline call beyond GenerationParams' plain fields.

The recipe's steps, guidance, sampler, LoRA and TAESD travel as ordinary params (desktop/core/fast_mode.py
chose them); what a sampler name cannot say lives here: trailing timesteps for models distilled from
t=999, TCD's eta, and the DeepCache interval.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from desktop.core.fast_mode import BY_ID
from desktop.core.params import GenerationParams
from desktop.engine.feature_cache import feature_cache
from desktop.engine.schedulers import make_scheduler


def scheduler_for(params: GenerationParams, base_config):
    """The sampler the params name, with the recipe's timestep spacing when a Fast mode recipe ran."""
    scheduler = make_scheduler(params.scheduler, base_config)
    recipe = BY_ID.get(params.fast_recipe)
    if recipe is not None and recipe.trailing:
        # one step from "leading" spacing would start at t=1 (almost no noise left): a grey image
        scheduler = type(scheduler).from_config(scheduler.config, timestep_spacing="trailing")
    return scheduler


def call_options(params: GenerationParams) -> dict:
    """Extra keyword arguments for the pipeline call (TCD's eta)."""
    recipe = BY_ID.get(params.fast_recipe)
    return {"eta": recipe.eta} if recipe is not None and recipe.eta is not None else {}


@contextlib.contextmanager
def recipe_applied(pipe, params: GenerationParams) -> Iterator[None]:
    """The parts of a recipe that wrap the call: the feature cache, removed afterwards."""
    with feature_cache(pipe, params.cache_interval):
        yield


def recipe_lora(params: GenerationParams, specs) -> tuple[object | None, list]:
    """The LoRA spec that carries a Fast mode recipe (LCM, Hyper-SD), and the user's other LoRAs."""
    from desktop.core.fast_mode import BY_LORA, recipe_matches

    recipe = BY_ID.get(params.fast_recipe)
    if recipe is None or recipe.source != BY_LORA:
        return None, list(specs)
    for index, spec in enumerate(specs):
        if recipe_matches(recipe, spec.name):
            return spec, [s for i, s in enumerate(specs) if i != index]
    return None, list(specs)


class FusedLora:
    """The Fast mode recipe's LoRA fused into the model's weights, kept while generations keep asking for it.

    Fused, a LoRA costs nothing per step (measured on the tiny model: unfused peft layers made each UNet
    call ~3x slower; at SD 1.5 size LCM-LoRA's rank-64 layers add up to ~40% to the full-resolution
    attention projections); loading and fusing it costs seconds, so it is done once for a run of Fast
    mode images, not per image. Unfusing would leave the weights a rounding error away from the file's,
    so when the recipe's LoRA is no longer asked for, the model is reloaded instead (a load maps the
    files: a fraction of a second) and the next image is bit-identical to one made before Fast mode.
    """

    def __init__(self) -> None:
        self.key: tuple | None = None  # (path, weight) of the fused LoRA

    def prepare(self, engine, params: GenerationParams, addons):
        """Fuse, keep, or drop the recipe's LoRA for this generation; returns the addons left to apply."""
        import dataclasses

        spec, others = recipe_lora(params, addons.loras)
        key = (spec.path, spec.weight) if spec is not None else None
        if key != self.key:
            if self.key is not None:
                self.key = None
                engine.reload()
            if spec is not None:
                fuse_lora(engine, spec)
                self.key = key
        return dataclasses.replace(addons, loras=tuple(others))


def fuse_lora(engine, spec) -> None:
    """Load the LoRA as an adapter, merge it into the weights at its weight, and drop the adapter layers."""
    from desktop.engine.lora import apply_loras

    pipe = engine.base_pipe
    names = apply_loras(pipe, [spec])  # checks the family and that it fits, as any LoRA
    try:
        pipe.fuse_lora(adapter_names=names, lora_scale=1.0)  # the adapter's weight is already its scale
        pipe.unload_lora_weights()  # the merged weights stay; the per-step LoRA layers go
    except BaseException:
        engine.reload()  # a half-merged model must not make the next image
        raise

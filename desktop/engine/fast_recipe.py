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

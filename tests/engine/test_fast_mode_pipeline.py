"""Fast mode on a tiny real pipeline: the recipe changes the pipeline as it claims, and is undone after.

DeepCache-style feature caching: interval 1 gives exactly the image made without it, interval 2 a
different but close one; cancel still stops within a step and leaves the UNet as it was.
"""

from __future__ import annotations

import threading
import numpy as np
import pytest
import torch

from desktop.core.fast_mode import choose
from desktop.core.messages import JobCancelled
from desktop.core.models import LORA, SD1, TAESD, ModelEntry
from desktop.core.params import GenerationParams
from desktop.engine.feature_cache import feature_cache
from desktop.engine.pipeline import ImageEngine


@pytest.fixture(scope="module")
def engine(tiny_sd15):
    engine = ImageEngine(device="cpu")
    engine.load(tiny_sd15)
    return engine


@pytest.fixture(scope="module")
def entries(tiny_sd15, tiny_taesd, tmp_path_factory) -> list[ModelEntry]:
    """What a user with the catalog's LCM-LoRA, a Hyper-SD LoRA and TAESD has (random weights)."""
    from tiny_checkpoints import write_lora

    folder = tmp_path_factory.mktemp("fast-addons")
    lcm = write_lora(tiny_sd15, folder / "lcm-lora-sdv1-5.safetensors", seed=5)
    hyper = write_lora(tiny_sd15, folder / "Hyper-SD15-1step-lora.safetensors", seed=6)
    return [ModelEntry("lcm-lora-sdv1-5", str(lcm), LORA, SD1), ModelEntry("Hyper-SD15-1step-lora", str(hyper), LORA, SD1),
            ModelEntry("taesd", str(tiny_taesd), TAESD)]


def pixels(images) -> np.ndarray:
    return np.asarray(images[0], dtype=np.int16)


def base(**changes) -> GenerationParams:
    values = dict(prompt="a lighthouse", width=64, height=64, steps=6, guidance=7.0, seed=11)
    values.update(changes)
    return GenerationParams(**values)


def run_watching(engine, params, entries):
    """Generate, and note at the first step what the pipeline looked like while it ran."""
    seen = {}

    def on_progress(step, total):
        if step == 1:
            pipe = engine._pipes["txt2img"]
            seen.update(scheduler=type(pipe.scheduler).__name__, spacing=pipe.scheduler.config.timestep_spacing,
                        cfg=pipe.do_classifier_free_guidance, vae=type(pipe.vae).__name__,
                        adapters=sorted(name for names in pipe.get_list_adapters().values() for name in names),
                        wrapped="forward" in vars(pipe.unet.mid_block), total=total)

    images = engine.generate(params, on_progress=on_progress, addons=entries)
    return images, seen


def pipeline_is_clean(engine) -> bool:
    pipe = engine._pipes["txt2img"]
    blocks = [*pipe.unet.down_blocks, pipe.unet.mid_block, *pipe.unet.up_blocks]
    return (type(pipe.vae).__name__ == "AutoencoderKL" and not any(pipe.get_list_adapters().values())
            and not any("forward" in vars(block) for block in blocks) and not pipe.unet._forward_pre_hooks)


def test_lcm_recipe_runs_lcm_4_steps_without_cfg_with_the_lora_fused_taesd_and_cache(engine, entries):
    before = pixels(engine.generate(base(), addons=entries))
    params = choose(base(fast_mode=True), engine.loaded.path, SD1, entries[:1] + entries[2:], "cpu").params
    images, seen = run_watching(engine, params, entries)
    # the LoRA is merged into the weights: no adapter layers left to cost time on every step
    assert seen == {"scheduler": "LCMScheduler", "spacing": "leading", "cfg": False, "vae": "AutoencoderTiny",
                    "adapters": [], "wrapped": True, "total": 4}
    assert engine.fused_lora.key == (entries[0].path, 1.0)
    assert images[0].size == (64, 64)
    unet = engine.base_pipe.unet
    fused_weight = unet.down_blocks[0].attentions[0].transformer_blocks[0].attn1.to_q.weight.clone()
    again = pixels(engine.generate(params, addons=entries))  # the next Fast image keeps it fused: no reload
    assert engine.base_pipe.unet is unet and np.array_equal(again, pixels(images))
    # the same LoRA as an ordinary (unfused) adapter gives the same picture, within rounding
    adapter = pixels(engine.generate(params.replace(fast_recipe=""), addons=entries))
    assert engine.base_pipe.unet is not unet  # left Fast mode: the model was reloaded from its files
    assert np.abs(adapter - pixels(images)).max() <= 2
    assert not torch.equal(fused_weight, engine.base_pipe.unet.down_blocks[0].attentions[0].transformer_blocks[0]
                           .attn1.to_q.weight)
    assert pipeline_is_clean(engine) and engine.fused_lora.key is None
    assert np.array_equal(pixels(engine.generate(base(), addons=entries)), before)  # bit-identical to before


def test_hyper_1step_recipe_runs_tcd_with_trailing_timesteps_and_eta(engine, entries):
    params = choose(base(fast_mode=True), engine.loaded.path, SD1, entries[1:], "cpu").params
    assert params.fast_recipe == "hyper-sd-1step" and params.steps == 1
    from diffusers import TCDScheduler

    timesteps = []
    saved = TCDScheduler.step

    def step(self, model_output, timestep, sample, eta=0.3, *args, **kwargs):
        timesteps.append((int(timestep), eta))
        return saved(self, model_output, timestep, sample, eta, *args, **kwargs)

    TCDScheduler.step = step
    try:
        _, seen = run_watching(engine, params, entries)
    finally:
        TCDScheduler.step = saved
    assert seen["scheduler"] == "TCDScheduler" and seen["total"] == 1 and seen["cfg"] is False
    assert timesteps == [(999, 1.0)]  # one step from pure noise (TCD's own schedule), gamma as Hyper-SD says
    assert pipeline_is_clean(engine)


def test_a_turbo_model_needs_no_lora_and_starts_from_pure_noise(engine):
    params = choose(base(fast_mode=True), "/models/sd-turbo", "SD 2.x", [], "cpu").params
    _, seen = run_watching(engine, params, [])
    assert seen["scheduler"] == "EulerAncestralDiscreteScheduler" and seen["spacing"] == "trailing"
    assert seen["total"] == 1 and seen["cfg"] is False and seen["adapters"] == []


def test_feature_cache_interval_1_is_the_same_image_and_2_a_close_one(engine):
    plain = pixels(engine.generate(base(steps=6)))
    assert np.array_equal(pixels(engine.generate(base(steps=6, cache_interval=1))), plain)
    cached_images = engine.generate(base(steps=6, cache_interval=2))
    cached = pixels(cached_images)
    other_seed = pixels(engine.generate(base(steps=6, seed=12)))
    change = np.abs(cached - plain).mean()
    assert change > 0  # the deep features really were reused
    assert change < 0.5 * np.abs(other_seed - plain).mean()  # ... and the picture stayed the same one
    assert pipeline_is_clean(engine)


def test_feature_cache_reuses_every_other_unet_call(engine):
    pipe = engine._pipes["txt2img"]
    with feature_cache(pipe, 2) as cache, torch.inference_mode():
        pipe("x", num_inference_steps=5, width=64, height=64, guidance_scale=1.0, output_type="latent")
    assert (cache.calls, cache.reused) == (5, 2)


def test_cancel_still_stops_within_a_step_with_the_cache_on(engine):
    cancel = threading.Event()
    steps = []

    def on_progress(step, total):
        steps.append(step)
        if step == 2:
            cancel.set()

    with pytest.raises(JobCancelled):
        engine.generate(base(steps=8, cache_interval=2), on_progress=on_progress, cancel=cancel)
    assert steps == [1, 2] and pipeline_is_clean(engine)
    assert engine.generate(base(steps=2))[0].size == (64, 64)  # still usable


def test_token_merging_at_ratio_0_is_the_same_image_and_at_half_a_close_one(engine):
    from desktop.engine.token_merge import token_merging

    pipe = engine.base_pipe
    before = {name: type(m.processor) for name, m in pipe.unet.named_modules() if name.endswith("attn1")}

    def image(ratio, seed=1):
        with token_merging(pipe, ratio) as wrapped, torch.inference_mode():
            out = pipe("a fox", num_inference_steps=3, width=64, height=64, output_type="np",
                       generator=torch.Generator().manual_seed(seed)).images[0]
        return out, wrapped

    plain, none = image(0.0)
    merged, wrapped = image(0.5)
    assert none == 0 and wrapped == len(before) > 0
    assert np.array_equal(image(0.0)[0], plain)
    change = np.abs(merged - plain).mean()
    assert 0 < change < 0.5 * np.abs(image(0.0, seed=2)[0] - plain).mean()
    assert {name: type(m.processor) for name, m in pipe.unet.named_modules() if name.endswith("attn1")} == before

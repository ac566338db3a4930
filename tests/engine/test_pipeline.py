"""The image engine against real (tiny) diffusers pipelines loaded from disk like a user's model."""

import shutil
import threading
import time

import numpy as np
import pytest
import torch

from desktop.core.messages import JobCancelled
from desktop.core.params import SCHEDULERS, GenerationParams
from desktop.engine.pipeline import ImageEngine, ModelLoadError

PARAMS = GenerationParams(prompt="a red fox, watercolor", negative_prompt="blurry", width=64, height=64,
                          steps=4, guidance=7.0, scheduler="Euler a", seed=1234)


@pytest.fixture(scope="module")
def engine(tiny_sd15):
    engine = ImageEngine()
    engine.load(tiny_sd15)
    return engine


def pixels(image):
    return np.asarray(image.convert("RGB"))


def test_same_seed_gives_identical_pixels_and_another_seed_differs(engine):
    first = pixels(engine.generate(PARAMS)[0])
    again = pixels(engine.generate(PARAMS)[0])
    other = pixels(engine.generate(PARAMS.replace(seed=99))[0])
    assert first.shape == (64, 64, 3)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_matches_a_plain_diffusers_call(engine, tiny_sd15):
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionPipeline

    plain = StableDiffusionPipeline.from_pretrained(tiny_sd15, local_files_only=True, safety_checker=None)
    plain.scheduler = EulerAncestralDiscreteScheduler.from_config(plain.scheduler.config)
    plain.set_progress_bar_config(disable=True)

    def plain_call():
        return pixels(plain(prompt=PARAMS.prompt, negative_prompt=PARAMS.negative_prompt, width=64, height=64,
                            num_inference_steps=4, guidance_scale=7.0,
                            generator=torch.Generator("cpu").manual_seed(1234)).images[0])

    untouched = plain_call()
    ours = pixels(engine.generate(PARAMS)[0])
    # The engine may store conv weights channels_last on CPU (faster); the same choice in plain
    # diffusers must give the very same pixels, and the untouched pipeline the same up to rounding.
    channels_last = engine._pipes["txt2img"].unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
    if channels_last:
        plain.unet.to(memory_format=torch.channels_last)
        plain.vae.to(memory_format=torch.channels_last)
    # oneDNN may pick another kernel from one call to the next: equal up to one level of 255
    assert np.abs(ours.astype(int) - plain_call().astype(int)).max() <= 1
    assert np.abs(ours.astype(int) - untouched.astype(int)).max() <= 2
    assert np.abs(ours.astype(int) - pixels(engine.generate(PARAMS.replace(seed=1235))[0]).astype(int)).max() > 10


def test_previews_arrive_every_step_at_one_eighth_size(engine):
    previews, progress = [], []
    engine.generate(PARAMS.replace(steps=5, width=128, height=64),
                    on_preview=lambda step, image: previews.append((step, image.width, image.height)),
                    on_progress=lambda step, total: progress.append((step, total)))
    assert previews == [(step, 16, 8) for step in range(1, 6)]
    assert progress == [(step, 5) for step in range(1, 6)]


def test_cancel_returns_within_about_one_step_and_the_engine_stays_usable(engine):
    cancel = threading.Event()
    steps_seen = []

    def on_progress(step, total):
        steps_seen.append(step)
        if step == 2:
            cancel.set()

    with pytest.raises(JobCancelled):
        engine.generate(PARAMS.replace(steps=20), on_progress=on_progress, cancel=cancel)
    assert steps_seen == [1, 2]
    assert engine.generate(PARAMS)[0].size == (64, 64)


# What each sampler the panel lists must run as: the class and the sigma spacing A1111's name means.
# Written here again, not read from the engine's table, so a wrong row there turns a test red.
SAMPLER_CLASSES = {
    "Euler": ("EulerDiscreteScheduler", False),
    "Euler a": ("EulerAncestralDiscreteScheduler", False),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", False),
    "DPM++ 2M Karras": ("DPMSolverMultistepScheduler", True),
    "DDIM": ("DDIMScheduler", False),
    "LCM": ("LCMScheduler", False),
    "TCD": ("TCDScheduler", False),  # Hyper-SD's 1-step LoRA (Fast mode)
}


def test_every_listed_sampler_has_a_check():
    assert set(SAMPLER_CLASSES) == set(SCHEDULERS)  # a sampler added to the list without a row here fails


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_each_sampler_runs_its_own_scheduler_class(engine, scheduler):
    seen = []

    def on_progress(step, total):  # during the run: the scheduler that is really stepping
        seen.append(engine._pipes["txt2img"].scheduler)

    image = engine.generate(PARAMS.replace(scheduler=scheduler, steps=3), on_progress=on_progress)[0]
    assert image.size == (64, 64) and len(seen) == 3
    name, karras = SAMPLER_CLASSES[scheduler]
    assert {type(s).__name__ for s in seen} == {name}
    assert bool(getattr(seen[0].config, "use_karras_sigmas", False)) == karras
    if name == "DPMSolverMultistepScheduler":
        assert seen[0].config.algorithm_type == "dpmsolver++"



def test_batch_uses_consecutive_seeds(engine):
    batch = engine.generate(PARAMS.replace(batch_size=2, steps=2))
    single = engine.generate(PARAMS.replace(seed=PARAMS.seed + 1, steps=2))[0]
    assert len(batch) == 2
    # batched convolutions round differently: equal up to one level of 255
    assert np.abs(pixels(batch[1]).astype(int) - pixels(single).astype(int)).max() <= 1
    assert np.abs(pixels(batch[0]).astype(int) - pixels(batch[1]).astype(int)).max() > 10


def test_sdxl_layout_generates_and_replaces_the_loaded_model(tiny_sdxl):
    engine = ImageEngine()
    engine.load(tiny_sdxl)
    assert engine.loaded.family == "SDXL"
    previews = []
    image = engine.generate(PARAMS.replace(steps=2), on_preview=lambda s, i: previews.append(i))[0]
    assert image.size == (64, 64) and len(previews) == 2


def test_img2img_and_inpaint_share_the_loaded_modules(engine):
    from PIL import Image

    source = engine.generate(PARAMS)[0]
    img2img = engine.generate(PARAMS.replace(mode="img2img", strength=0.5), init_image=source)[0]
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    inpainted = engine.generate(PARAMS.replace(mode="inpaint", strength=1.0), init_image=source, mask=mask)[0]
    assert img2img.size == inpainted.size == (64, 64)
    assert engine._pipes["img2img"].unet is engine._pipes["txt2img"].unet


def test_a_half_copied_folder_fails_with_a_clear_message(tmp_path, tiny_sd15):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_sd15, broken)
    shutil.rmtree(broken / "vae")
    with pytest.raises(ModelLoadError, match="missing vae"):
        ImageEngine().load(broken)

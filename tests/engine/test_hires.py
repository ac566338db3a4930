"""Hires fix in the engine: both passes as one run, previews numbered across both, cancel in the second pass."""

import threading

import pytest

from desktop.core.messages import JobCancelled
from desktop.core.params import GenerationParams, ParamError


@pytest.fixture(scope="module")
def engine(tiny_sd15):
    from desktop.engine.pipeline import ImageEngine

    engine = ImageEngine(channels_last=False)
    engine.load(tiny_sd15)
    return engine


def test_lanczos_hires_previews_run_across_both_passes_and_cancel_stops_the_second(engine):
    from desktop.engine.hires import generate_hires

    params = GenerationParams(prompt="a fox", width=64, height=64, steps=2, seed=4, hires_scale=1.5,
                              hires_strength=0.5, hires_upscaler="Lanczos", batch_size=2)
    previews, progress = [], []
    images = generate_hires(engine, params, on_progress=lambda d, t: progress.append((d, t)),
                            on_preview=lambda step, image: previews.append((step, image.width)))
    assert [image.size for image in images] == [(96, 96), (96, 96)]  # a batch: both images at the final size
    assert previews[:3] == [(1, 8), (2, 8), (4, 12)]  # pass 1 steps 1-2, the upscale is step 3, pass 2 step 4
    assert progress[:4] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    cancel = threading.Event()

    def stop_in_second_pass(step, _image):
        if step > 2:
            cancel.set()

    with pytest.raises(JobCancelled):
        generate_hires(engine, params.replace(batch_size=1, steps=4), on_preview=stop_in_second_pass, cancel=cancel)


def test_hires_with_a_built_in_upscaler_goes_through_the_network_in_tiles(engine, builtin_upscalers):
    from desktop.engine.hires import generate_hires
    from desktop.engine.upscaler import load_upscaler
    from tests.conftest import UPSCALER_CACHE

    loaded = []

    def load(name):
        loaded.append(name)
        return load_upscaler(name, [builtin_upscalers], UPSCALER_CACHE)

    params = GenerationParams(prompt="a fox", width=64, height=64, steps=2, seed=4, hires_scale=1.5,
                              hires_strength=0.5, hires_upscaler="realesr-animevideov3")
    progress = []
    images = generate_hires(engine, params, load_upscaler=load, on_progress=lambda d, t: progress.append((d, t)),
                            tile=32)
    assert loaded == ["realesr-animevideov3"] and images[0].size == (96, 96)
    assert progress[-1] == (2 + 9 + 1, 2 + 9 + 1)  # 2 steps, 9 tiles of 32 px over 64 px, 1 refine step
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


def test_hires_params_are_checked_where_they_are_made():
    with pytest.raises(ParamError, match="hires scale"):
        GenerationParams(hires_scale=0.5)
    with pytest.raises(ParamError, match="hires strength"):
        GenerationParams(hires_scale=2.0, hires_strength=0.0)
    with pytest.raises(ParamError, match="larger than one image may be here"):
        GenerationParams(width=1536, height=1536, hires_scale=2.0)
    assert GenerationParams.from_dict(GenerationParams(hires_scale=2.0).to_dict()).hires_scale == 2.0

"""The CPU speed paths the benchmarks chose: channels_last, TAESD final decode, cheap reloads."""

import gc
import shutil

import numpy as np
import pytest

from desktop.core.params import GenerationParams
from desktop.engine.fast_decode import find_taesd, is_taesd_folder
from desktop.engine.pipeline import ImageEngine

PARAMS = GenerationParams(prompt="a red fox", width=64, height=64, steps=3, seed=11)


def _pixels(images):
    return np.asarray(images[0].convert("RGB"), dtype=np.int16)


def test_channels_last_changes_speed_not_pixels(tiny_sd15):
    plain, fast = ImageEngine(device="cpu", channels_last=False), ImageEngine(device="cpu", channels_last=True)
    plain.load(tiny_sd15)
    fast.load(tiny_sd15)
    pipe = fast._pipes["txt2img"]
    channels_last = __import__("torch").channels_last
    # converted on first use, not at load: a load costs what a plain from_pretrained costs
    assert not pipe.unet.conv_in.weight.is_contiguous(memory_format=channels_last)
    difference = np.abs(_pixels(plain.generate(PARAMS)) - _pixels(fast.generate(PARAMS)))
    assert difference.max() <= 2  # float rounding differs between layouts, the picture does not
    for model, conv in ((pipe.unet, pipe.unet.conv_in), (pipe.vae, pipe.vae.decoder.conv_in)):
        assert conv.weight.is_contiguous(memory_format=channels_last)  # converted by the first generation
        assert not any(layer._forward_pre_hooks for layer in model.modules())


def test_fast_decode_uses_taesd_and_can_be_turned_off(tiny_sd15, tiny_taesd, tmp_path):
    engine = ImageEngine(device="cpu")
    engine.load(tiny_sd15)
    full = engine.generate(PARAMS)
    engine.set_fast_decode(tiny_taesd)
    fast = engine.generate(PARAMS)
    assert fast[0].size == (64, 64) and fast[0].mode == "RGB"
    assert np.abs(_pixels(full) - _pixels(fast)).mean() > 1  # a different decoder made these pixels
    engine.set_fast_decode(None)
    assert np.array_equal(_pixels(engine.generate(PARAMS)), _pixels(full))


def test_taesd_is_found_by_folder_name_and_family(tiny_taesd, tiny_sd15, tmp_path):
    shutil.copytree(tiny_taesd, tmp_path / "taesd")
    assert is_taesd_folder(tmp_path / "taesd") and not is_taesd_folder(tiny_sd15)
    assert find_taesd([tmp_path / "nowhere", tmp_path], "SD1") == tmp_path / "taesd"
    assert find_taesd([tmp_path], "SDXL") is None  # SDXL latents need taesdxl


def test_unload_freezes_what_survives_so_the_next_load_scans_little(tiny_sd15, tmp_path):
    other = shutil.copytree(tiny_sd15, tmp_path / "other")
    engine = ImageEngine(device="cpu")
    engine.load(tiny_sd15)
    engine.load(other)  # unloads the first one
    assert gc.get_freeze_count() > 0 and engine.loaded.path == str(other.resolve())
    assert len(engine.generate(PARAMS)) == 1
    gc.unfreeze()


@pytest.fixture(autouse=True)
def _unfreeze_after():
    yield
    gc.unfreeze()

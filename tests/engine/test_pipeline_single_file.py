"""ImageEngine with what the Models work adds: single-file checkpoints, the memory plan, LoRAs, a custom VAE."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from desktop.core.models import LORA, TAESD, ModelEntry
from desktop.core.params import GenerationParams
from desktop.engine.addons import resolve_addons
from desktop.engine.lora import LoraError
from desktop.engine.pipeline import ImageEngine, ModelLoadError
from tiny_checkpoints import refuse_network, use_tiny_skeletons, write_ldm_checkpoint, write_lora, write_sdxl_lora

PARAMS = GenerationParams(prompt="a red fox, watercolor", width=64, height=64, steps=3, seed=1234)


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB")).astype(int)


@pytest.fixture(scope="module")
def checkpoint(tiny_sd15, tmp_path_factory):
    return write_ldm_checkpoint(tiny_sd15, tmp_path_factory.mktemp("single") / "dreamy.safetensors")


@pytest.fixture(scope="module")
def folder_engine(tiny_sd15):
    engine = ImageEngine()
    engine.load(tiny_sd15)
    return engine


@pytest.fixture(scope="module")
def addon_files(tiny_sd15, tiny_taesd, tmp_path_factory):
    folder = tmp_path_factory.mktemp("addons")
    return [ModelEntry("ink", str(write_lora(tiny_sd15, folder / "ink.safetensors")), LORA),
            ModelEntry("xl-style", str(write_sdxl_lora(folder / "xl-style.safetensors")), LORA, "SDXL"),
            ModelEntry("taesd", str(tiny_taesd), TAESD)]


def test_a_checkpoint_file_loads_offline_says_where_it_runs_and_draws_what_the_folder_draws(
        checkpoint, tiny_sd15, folder_engine, monkeypatch, tmp_path):
    use_tiny_skeletons(monkeypatch, tiny_sd15, tmp_path)
    refuse_network(monkeypatch)
    engine = ImageEngine()
    loaded = engine.load(checkpoint)
    assert (loaded.family, loaded.name, loaded.strategy) == ("SD 1.x", "dreamy", "no offload")
    assert loaded.placement.startswith("CPU (") and loaded.placement.endswith("float32, no offload")
    assert loaded.reason.startswith("CPU, float32") and "free RAM" in loaded.reason
    assert engine.load(checkpoint) is loaded  # the same file again: nothing reloaded
    from_file = pixels(engine.generate(PARAMS)[0])
    from_folder = pixels(folder_engine.generate(PARAMS)[0])
    assert np.abs(from_file - from_folder).max() <= 1  # same weights; a float sum may round differently


def test_a_damaged_or_unfitting_checkpoint_fails_like_a_broken_folder(checkpoint, tmp_path):
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(checkpoint.read_bytes()[:5000])
    with pytest.raises(ModelLoadError, match="truncated"):
        ImageEngine().load(cut)
    with pytest.raises(ModelLoadError, match="does not fit the SD 1.x architecture"):
        ImageEngine().load(checkpoint)  # tiny weights against the shipped real-size SD 1.5 skeleton


def test_lora_from_the_prompt_or_the_panel_changes_the_image_then_is_gone(folder_engine, addon_files):
    base = pixels(folder_engine.generate(PARAMS)[0])
    tagged = PARAMS.replace(prompt="a red fox, <lora:INK:0.8> watercolor")
    with_tag = pixels(folder_engine.generate(tagged, addons=addon_files)[0])
    assert np.abs(with_tag - base).max() > 10
    with_panel = pixels(folder_engine.generate(PARAMS.replace(loras=(("ink", 0.8),)), addons=addon_files)[0])
    assert np.array_equal(with_panel, with_tag)  # the tag is cut from the prompt the text encoder reads
    assert np.array_equal(pixels(folder_engine.generate(PARAMS, addons=addon_files)[0]), base)
    recorded = resolve_addons(tagged.replace(loras=(("ink", 1.0),)), addon_files).recorded
    assert (recorded.prompt, recorded.loras) == ("a red fox, watercolor", (("ink", 0.8),))  # the prompt's weight won


def test_a_wrong_lora_is_refused_with_the_reason_and_the_model_stays_clean(folder_engine, addon_files):
    base = pixels(folder_engine.generate(PARAMS)[0])
    with pytest.raises(LoraError, match="made for SDXL"):
        folder_engine.generate(PARAMS.replace(prompt="<lora:xl-style:1> fox"), addons=addon_files)
    with pytest.raises(LoraError, match="no LoRA named 'film'; known LoRAs: ink, xl-style"):
        folder_engine.generate(PARAMS.replace(loras=(("film", 1.0),)), addons=addon_files)
    assert np.array_equal(pixels(folder_engine.generate(PARAMS)[0]), base)


def test_a_custom_taesd_decodes_for_one_image_and_the_models_vae_comes_back(folder_engine, addon_files):
    base = pixels(folder_engine.generate(PARAMS)[0])
    own_vae = folder_engine._pipes["txt2img"].vae
    with_taesd = pixels(folder_engine.generate(PARAMS.replace(vae="TAESD"), addons=addon_files)[0])
    assert with_taesd.shape == base.shape and np.abs(with_taesd - base).max() > 10
    assert folder_engine._pipes["txt2img"].vae is own_vae
    assert np.array_equal(pixels(folder_engine.generate(PARAMS)[0]), base)
    with pytest.raises(ValueError, match="no VAE or TAESD named 'sharp'; known: taesd"):
        folder_engine.generate(PARAMS.replace(vae="sharp"), addons=addon_files)


def test_an_fp16_vae_that_overflows_is_decoded_again_in_fp32_not_left_black(tiny_sd15):
    engine = ImageEngine(dtype=torch.float16)  # as on a GPU; the CPU runs the tiny model in half precision too
    engine.load(tiny_sd15)
    vae = engine._pipes["txt2img"].vae
    with torch.no_grad():
        vae.post_quant_conv.weight.mul_(6e4)  # the first decoder layer overflows float16's 65504
    notes = []
    image = engine.generate(PARAMS.replace(steps=2), on_status=notes.append)[0]
    assert notes and "float32" in notes[0]
    assert engine._pipes["txt2img"].vae.dtype == torch.float32
    assert pixels(image).std() > 0  # a picture, not the flat black an all-NaN decode gives

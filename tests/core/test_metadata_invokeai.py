"""InvokeAI: `invokeai_metadata` (3.x, 4.x+), and 2.x `sd-metadata` and `Dream`."""

from __future__ import annotations

import json

from desktop.core.metadata import read_metadata
from tests.core.metadata_samples import png

CURRENT = {
    "generation_mode": "sdxl_txt2img", "positive_prompt": "a watercolor harbour", "negative_prompt": "photo",
    "width": 1024, "height": 832, "seed": 3805139402, "rand_device": "cpu", "cfg_scale": 6.5,
    "cfg_rescale_multiplier": 0, "steps": 32, "scheduler": "dpmpp_2m_k",
    "model": {"key": "2f9e", "hash": "blake3:ab12", "name": "Juggernaut XL v9", "base": "sdxl", "type": "main"},
    "loras": [{"model": {"key": "9a", "hash": "blake3:cd", "name": "watercolor_v2", "base": "sdxl", "type": "lora"},
               "weight": 0.75}],
    "app_version": "5.6.0",
}


def test_current_invokeai_metadata(tmp_path):
    info = read_metadata(png(tmp_path / "i.png", {"invokeai_metadata": json.dumps(CURRENT)}))
    assert info.tool == "invokeai"
    assert (info.prompt, info.negative_prompt, info.seed, info.steps) == ("a watercolor harbour", "photo", 3805139402, 32)
    assert (info.cfg_scale, info.sampler, info.width, info.height) == (6.5, "dpmpp_2m_k", 1024, 832)
    assert info.model == "Juggernaut XL v9" and info.extra["app_version"] == "5.6.0"
    params = info.to_params()
    assert params.scheduler == "DPM++ 2M Karras" and params.loras == (("watercolor_v2", 0.75),)


def test_invokeai_3_model_layout(tmp_path):
    old = dict(CURRENT, model={"model_name": "stable-diffusion-v1-5", "base_model": "sd-1", "model_type": "main"},
               loras=[{"lora": {"model_name": "detail", "base_model": "sd-1"}, "weight": 0.5}], scheduler="euler_a")
    info = read_metadata(png(tmp_path / "i.png", {"invokeai_metadata": json.dumps(old)}))
    assert info.model == "stable-diffusion-v1-5" and info.extra["loras"] == [{"name": "detail", "weight": 0.5}]
    assert info.to_params().scheduler == "Euler a"


def test_invokeai_2_sd_metadata_and_dream(tmp_path):
    sd_metadata = {
        "model": "stable diffusion", "model_weights": "stable-diffusion-1.5", "model_hash": "cc6cb27103",
        "app_id": "invoke-ai/InvokeAI", "app_version": "2.2.5",
        "image": {"prompt": [{"prompt": "a lighthouse at dusk [blurry, low quality]", "weight": 1.0}],
                  "steps": 50, "cfg_scale": 7.5, "threshold": 0, "perlin": 0, "height": 512, "width": 576,
                  "seed": 3357757885, "seamless": False, "hires_fix": False, "type": "txt2img",
                  "postprocessing": None, "sampler": "k_euler_a", "variations": []},
    }
    dream = '"a lighthouse at dusk [blurry, low quality]" -s 50 -S 3357757885 -W 576 -H 512 -C 7.5 -A k_euler_a'
    path = png(tmp_path / "old.png", {"sd-metadata": json.dumps(sd_metadata), "Dream": dream})
    info = read_metadata(path)
    assert (info.tool, info.prompt, info.negative_prompt) == ("invokeai", "a lighthouse at dusk", "blurry, low quality")
    assert (info.seed, info.steps, info.width, info.height, info.model) == (3357757885, 50, 576, 512, "stable-diffusion-1.5")
    assert info.to_params().scheduler == "Euler a"
    only_dream = read_metadata(png(tmp_path / "dream.png", {"Dream": dream}))
    assert (only_dream.prompt, only_dream.negative_prompt) == ("a lighthouse at dusk", "blurry, low quality")
    assert (only_dream.seed, only_dream.steps, only_dream.cfg_scale, only_dream.sampler) == (3357757885, 50, 7.5, "k_euler_a")


def test_wrong_types_are_dropped(tmp_path):
    bad = dict(CURRENT, seed="not a seed", steps=[1, 2], model=17, loras={"x": 1}, width=True)
    info = read_metadata(png(tmp_path / "bad.png", {"invokeai_metadata": json.dumps(bad)}))
    assert info.tool == "invokeai" and info.seed is None and info.steps is None and info.width is None
    assert info.prompt == "a watercolor harbour" and info.height == 832
    assert any("seed" in note for note in info.notes) and any("width" in note for note in info.notes)

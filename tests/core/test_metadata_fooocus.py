"""Fooocus: JSON `parameters` with `fooocus_scheme`, its A1111 scheme, and JPEG EXIF."""

from __future__ import annotations

import json

from desktop.core.metadata import read_metadata
from tests.core.metadata_samples import MAKER_NOTE, SOFTWARE, exif_image, png

FOOOCUS = {
    "adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion.safetensors",
    "base_model_hash": "aeb7e9e689", "full_negative_prompt": ["(worst quality)"], "full_prompt": ["a fox, cinematic"],
    "guidance_scale": 4.0, "loras": [["sd_xl_offset_example-lora_1.0.safetensors", 0.1, "4852686128"]],
    "negative_prompt": "", "performance": "Speed", "prompt": "a fox", "prompt_expansion": "a fox, cinematic",
    "refiner_model": "None", "refiner_switch": 0.5, "resolution": "(1152, 896)", "sampler": "dpmpp_2m_sde_gpu",
    "scheduler": "karras", "seed": "5210983762316339226", "sharpness": 2.0, "steps": 30,
    "styles": "['Fooocus V2', 'Fooocus Enhance']", "vae": "Default (model)", "version": "Fooocus v2.5.5",
}


def test_fooocus_png(tmp_path):
    path = png(tmp_path / "f.png", {"parameters": json.dumps(FOOOCUS), "fooocus_scheme": "fooocus"})
    info = read_metadata(path)
    assert info.tool == "fooocus"
    assert (info.prompt, info.seed, info.steps, info.cfg_scale) == ("a fox", 5210983762316339226, 30, 4.0)
    assert (info.width, info.height, info.model) == (1152, 896, "juggernautXL_v8Rundiffusion.safetensors")
    assert info.extra["loras"] == [{"name": "sd_xl_offset_example-lora_1.0.safetensors", "weight": 0.1}]
    params, dropped = info.adapt()
    assert params.loras == (("sd_xl_offset_example-lora_1.0", 0.1),)
    assert any("dpmpp_2m_sde_gpu" in d for d in dropped)  # no Atelier equivalent: said, not guessed


def test_fooocus_jpeg_writes_json_into_ifd0_user_comment(tmp_path):
    path = exif_image(tmp_path / "f.jpg", json.dumps(FOOOCUS), in_ifd0=True,
                      extra_tags={SOFTWARE: "Fooocus v2.5.5", MAKER_NOTE: "fooocus"})
    info = read_metadata(path)
    assert info.tool == "fooocus" and info.prompt == "a fox"


def test_fooocus_a1111_scheme(tmp_path):
    text = "a fox\nNegative prompt: blur\nSteps: 30, Sampler: DPM++ 2M SDE Karras, Seed: 5, Size: 1152x896, Version: Fooocus v2.5.5"
    info = read_metadata(png(tmp_path / "f.png", {"parameters": text, "fooocus_scheme": "a1111"}))
    assert (info.tool, info.prompt, info.seed, info.width) == ("fooocus", "a fox", 5, 1152)

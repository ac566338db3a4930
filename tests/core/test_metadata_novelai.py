"""NovelAI: `Comment` JSON (v3 and v4 prompt layouts) with `Description`, `Software` and `Source`."""

from __future__ import annotations

import json

from desktop.core.metadata import read_metadata
from tests.core.metadata_samples import png

COMMENT_V3 = {
    "prompt": "1girl, reading in a library, best quality", "steps": 28, "height": 1216, "width": 832, "scale": 5.0,
    "uncond_scale": 1.0, "cfg_rescale": 0.0, "seed": 1983466417, "n_samples": 1, "noise_schedule": "native",
    "sampler": "k_euler_ancestral", "sm": False, "sm_dyn": False, "uc": "lowres, bad anatomy",
    "request_type": "PromptGenerateRequest", "signed_hash": "aGVsbG8=",
}


def _fields(comment: dict) -> dict:
    return {"Title": "AI generated image", "Description": comment.get("prompt", "desc prompt"),
            "Software": "NovelAI", "Source": "Stable Diffusion XL C1E1DE52", "Generation time": "1.71",
            "Comment": json.dumps(comment)}


def test_novelai_v3(tmp_path):
    info = read_metadata(png(tmp_path / "n.png", _fields(COMMENT_V3)))
    assert info.tool == "novelai"
    assert (info.prompt, info.negative_prompt) == ("1girl, reading in a library, best quality", "lowres, bad anatomy")
    assert (info.seed, info.steps, info.cfg_scale, info.sampler) == (1983466417, 28, 5.0, "k_euler_ancestral")
    assert (info.width, info.height, info.model) == (832, 1216, "Stable Diffusion XL C1E1DE52")
    assert info.to_params().scheduler == "Euler a"


def test_novelai_v4_caption_layout(tmp_path):
    v4 = {k: v for k, v in COMMENT_V3.items() if k not in ("prompt", "uc")}
    v4["v4_prompt"] = {"caption": {"base_caption": "two cats", "char_captions": [{"char_caption": "black cat"}]}}
    v4["v4_negative_prompt"] = {"caption": {"base_caption": "blurry", "char_captions": []}}
    info = read_metadata(png(tmp_path / "n4.png", _fields(v4)))
    assert (info.prompt, info.negative_prompt) == ("two cats | black cat", "blurry")


def test_broken_comment_falls_back_to_the_description(tmp_path):
    fields = dict(_fields(COMMENT_V3), Comment="{not json", Description="a lake at dawn")
    info = read_metadata(png(tmp_path / "n.png", fields))
    assert info.tool == "novelai" and info.prompt == "a lake at dawn" and info.seed is None
    assert any("not valid JSON" in note for note in info.notes)

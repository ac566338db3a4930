"""Atelier's own record and exports: PNG, JPEG and WebP carry the settings, the A1111 text and the AI mark."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from desktop.core.metadata import export_image, read_metadata, xmp
from desktop.core.metadata.image_text import read_image_text
from desktop.core.params import MODES, SCHEDULERS, GenerationParams

PARAMS = GenerationParams(prompt="a ceramic teapot, studio light", negative_prompt="text", model="tiny-sdxl",
                          width=64, height=96, steps=6, guidance=4.5, scheduler="LCM", seed=77, mode="img2img",
                          strength=0.55, loras=(("glaze", 0.9),), vae="sdxl-vae-fp16", original_prompt="teapot")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_every_export_format_round_trips(tmp_path, suffix):
    image = Image.new("RGBA", (64, 96), (10, 200, 90, 255))
    path = export_image(image, PARAMS, tmp_path / f"teapot{suffix}", model_name="tiny-sdxl", model_hash="abc123",
                        extra={"mask_sha256": "ff00"})
    info = read_metadata(path)
    assert info.tool == "atelier"
    assert info.to_params() == PARAMS
    assert info.extra["model_hash"] == "abc123" and info.extra["mask_sha256"] == "ff00"
    assert info.extra["digital_source_type"] == xmp.TRAINED_ALGORITHMIC_MEDIA
    text = read_image_text(path)
    a1111_text = text.fields.get("parameters") or text.user_comment
    assert "Steps: 6, Sampler: LCM, CFG scale: 4.5, Seed: 77, Size: 64x96" in a1111_text
    assert "Denoising strength: 0.55" in a1111_text


def test_unknown_export_format_is_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="choose a .png, .jpg or .webp"):
        export_image(Image.new("RGB", (8, 8)), PARAMS, tmp_path / "x.bmp")


def test_xmp_packet_is_valid_and_says_ai_generated():
    packet = xmp.build_packet(description="a <b> & \x01 \"quoted\" prompt", atelier_json='{"a": "<&>"}')
    found = xmp.parse_packet(packet)
    assert found["digital_source_type"] == xmp.TRAINED_ALGORITHMIC_MEDIA
    assert found["atelier"] == '{"a": "<&>"}'
    assert found["creator_tool"].startswith("Atelier ")


@settings(max_examples=60, deadline=None)
@given(
    prompt=st.text(max_size=60), negative=st.text(max_size=30), seed=st.integers(0, 2**32 - 1),
    steps=st.integers(1, 150), scheduler=st.sampled_from(SCHEDULERS), mode=st.sampled_from(MODES),
    loras=st.lists(st.tuples(st.text(min_size=1, max_size=10), st.floats(-2, 2).map(lambda w: round(w, 3))), max_size=3),
)
def test_atelier_record_round_trips_any_params(tmp_path_factory, prompt, negative, seed, steps, scheduler, mode, loras):
    params = GenerationParams(prompt=prompt, negative_prompt=negative, seed=seed, steps=steps, scheduler=scheduler,
                              mode=mode, loras=tuple(loras), width=64, height=64)
    path = export_image(Image.new("RGB", (8, 8)), params, tmp_path_factory.getbasetemp() / "rt.png")
    assert read_metadata(path).to_params() == params

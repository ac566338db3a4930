"""A1111 / Forge / SD.Next `parameters`: round trips, real-world samples, PNG, JPEG and WebP."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.core.metadata import a1111, format_a1111_parameters, read_metadata
from desktop.core.params import SCHEDULERS, GenerationParams
from tests.core.metadata_samples import A1111_TEXT, exif_image, png, unicode_comment


def test_a_real_a1111_text_is_read_field_by_field():
    info = a1111.parse(A1111_TEXT)
    assert info.tool == "automatic1111"
    assert info.prompt == "masterpiece, a (red:1.2) fox in the snow, <lora:add_detail:0.6>"
    assert info.negative_prompt == "lowres, bad anatomy"
    assert (info.steps, info.cfg_scale, info.seed) == (28, 6.5, 1234567890)
    assert (info.sampler, info.width, info.height) == ("DPM++ 2M", 512, 768)
    assert info.model == "v1-5-pruned-emaonly"
    assert info.extra["model_hash"] == "6ce0161689"
    assert info.extra["Lora hashes"] == "add_detail: 7c6bad76eb54"  # quoted value with ':' unquoted
    assert info.extra["Hires upscale"] == "2"


def test_reuse_settings_maps_sampler_schedule_and_loras():
    params, dropped = a1111.parse(A1111_TEXT).adapt()
    assert params.scheduler == "DPM++ 2M Karras"  # "DPM++ 2M" + "Schedule type: Karras"
    assert params.loras == (("add_detail", 0.6),)
    assert params.prompt == "masterpiece, a (red:1.2) fox in the snow,"
    assert (params.width, params.height, params.steps, params.guidance) == (512, 768, 28, 6.5)
    assert dropped == ()


def test_forge_and_sdnext_are_told_apart():
    forge = A1111_TEXT.replace("Version: v1.10.1", "Version: f2.0.1v1.10.1-previous-635-gf5330788")
    assert a1111.parse(forge).tool == "forge"
    sdnext = A1111_TEXT.replace("Version: v1.10.1", "App: SD.Next, Version: 5f5d2a5")
    assert a1111.parse(sdnext).tool == "sdnext"


def test_multiline_prompt_and_negative():
    text = "line one\nline two\nNegative prompt: bad\nworse\nSteps: 4, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64"
    info = a1111.parse(text)
    assert (info.prompt, info.negative_prompt) == ("line one\nline two", "bad\nworse")


def test_text_without_a_settings_line_keeps_the_prompt_and_says_so():
    info = a1111.parse("just a prompt, nothing else")
    assert info.prompt == "just a prompt, nothing else" and info.seed is None
    assert any("no settings line" in note for note in info.notes)


def test_broken_values_are_noted_not_raised():
    info = a1111.parse("p\nSteps: many, Sampler: Euler, CFG scale: high, Seed: 12, Size: big")
    assert info.steps is None and info.cfg_scale is None and info.seed == 12
    assert any("steps" in n for n in info.notes) and any("size" in n for n in info.notes)


def test_png_from_a1111(tmp_path):
    info = read_metadata(png(tmp_path / "a.png", {"parameters": A1111_TEXT}))
    assert info.tool == "automatic1111" and info.seed == 1234567890


def test_jpeg_user_comment_in_utf16_big_endian_as_a1111_writes_it(tmp_path):
    path = exif_image(tmp_path / "a.jpg", unicode_comment(A1111_TEXT + " ünïcødé"))
    info = read_metadata(path)
    assert info.tool == "automatic1111" and info.seed == 1234567890
    assert info.extra["version"] == "v1.10.1 ünïcødé"


def test_webp_user_comment_little_endian(tmp_path):
    path = exif_image(tmp_path / "a.webp", unicode_comment(A1111_TEXT, big_endian=False), fmt="WEBP")
    info = read_metadata(path)
    assert info.seed == 1234567890 and info.prompt.startswith("masterpiece")


@settings(max_examples=150, deadline=None)
@given(
    prompt=st.text(max_size=80).filter(lambda t: not any(l.startswith("Negative prompt:") for l in t.split("\n"))),
    negative=st.text(max_size=40),
    seed=st.integers(0, 2**32 - 1),
    steps=st.integers(1, 150),
    guidance=st.floats(0, 30).map(lambda g: round(g, 2)),
    scheduler=st.sampled_from(SCHEDULERS),
    model=st.text(max_size=30).map(str.strip),
)
def test_round_trip_of_the_a1111_text(prompt, negative, seed, steps, guidance, scheduler, model):
    prompt = prompt.replace("\r", "")
    negative = negative.replace("\r", "").lstrip("\n")
    params = GenerationParams(prompt=prompt, negative_prompt=negative, seed=seed, steps=steps, guidance=guidance,
                              scheduler=scheduler, width=320, height=448)
    info = a1111.parse(format_a1111_parameters(params, model_name=model, model_hash="45dee52b"))
    assert info.prompt == prompt
    assert info.negative_prompt == (negative if negative else "")
    assert (info.seed, info.steps, info.width, info.height) == (seed, steps, 320, 448)
    assert info.cfg_scale == float(f"{guidance:g}")
    assert info.sampler == scheduler and info.extra["model_hash"] == "45dee52b"
    assert (info.model or "") == model.strip()
    assert info.to_params().scheduler == scheduler


def test_hires_fix_fields_are_written_in_a1111_order_and_read_back_as_params():
    from desktop.core.metadata.a1111 import format_parameters, parse
    from desktop.core.params import GenerationParams

    params = GenerationParams(prompt="a fox", width=512, height=512, steps=20, seed=3, hires_scale=1.5,
                              hires_strength=0.35, hires_upscaler="realesrgan-x4plus", hires_steps=10)
    text = format_parameters(params, model_name="m")
    assert "Denoising strength: 0.35, Hires upscale: 1.5, Hires steps: 10, Hires upscaler: realesrgan-x4plus" in text
    back = parse(text).to_params()
    assert (back.hires_scale, back.hires_strength, back.hires_upscaler, back.hires_steps) == (1.5, 0.35,
                                                                                               "realesrgan-x4plus", 10)
    assert back.mode == "txt2img" and back.width == 512
    a1111 = "x\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x768, Denoising strength: 0.7, " \
            "Hires upscale: 2, Hires upscaler: R-ESRGAN 4x+"
    read = parse(a1111).to_params()
    assert (read.hires_scale, read.hires_strength, read.hires_upscaler) == (2.0, 0.7, "R-ESRGAN 4x+")

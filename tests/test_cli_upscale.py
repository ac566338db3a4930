"""`main.py upscale` and `main.py generate --hires` as a user runs them: a real subprocess."""

import json

import numpy as np
import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from desktop.core.metadata import read_metadata
from tests.test_cli_generate import run_main


def _picture(path, size=(40, 30), parameters="a fox\nSteps: 2, Sampler: Euler, Seed: 7, Size: 40x30"):
    y, x = np.mgrid[0:size[1], 0:size[0]]
    pixels = np.stack([x * 6 % 256, y * 8 % 256, (x * y) % 256], -1).astype(np.uint8)
    info = PngInfo()
    info.add_text("parameters", parameters)
    Image.fromarray(pixels).save(path, pnginfo=info)
    return path


def test_upscale_writes_a_bigger_png_that_keeps_the_recipe_and_records_the_upscaler(tmp_path, home_upscalers):
    source, out = _picture(tmp_path / "in.png"), tmp_path / "big.png"
    result = run_main("upscale", str(source), "--model", "realesr-animevideov3", "--scale", "2", "--tile", "32",
                      "--out", str(out), env_home=tmp_path / "atelier-home")
    assert result.returncode == 0, result.stderr
    assert "tile 1/2" in result.stderr and "tile 2/2" in result.stderr  # 40 px wide: two 32 px tiles
    with Image.open(out) as image:
        assert image.size == (80, 60)
        text = dict(image.text)
    assert text["parameters"].startswith("a fox\nSteps: 2")  # the source's recipe, kept
    assert text["postprocessing"].startswith("Postprocess upscale by: 2, Postprocess upscaler: realesr-animevideov3")
    record = json.loads(text["atelier_upscale"])
    assert (record["scale"], record["native_scale"], record["tiles"], record["tile"]) == (2, 4, 2, 32)
    assert record["upscaler_hash"] == __import__("hashlib").sha256(
        (home_upscalers / "realesr-animevideov3.safetensors").read_bytes()).hexdigest()
    assert read_metadata(out).seed == 7


def test_upscale_bad_input_is_one_line_and_exit_2(tmp_path, home_upscalers):
    home = tmp_path / "atelier-home"
    source = _picture(tmp_path / "in.png")
    (home / "models" / "ESRGAN").mkdir(parents=True)
    pickle = home / "models" / "ESRGAN" / "2x-Mine.pth"
    from desktop.engine.upscaler import import_spandrel

    import_spandrel()  # first: it lends spandrel the torchvision stand-in
    from spandrel.architectures.Compact import Compact

    torch.save(Compact(num_in_ch=3, num_out_ch=3, num_feat=4, num_conv=1, upscale=2).state_dict(), pickle)
    cases = [
        (["--scale", "5"], "scale must be 2, 3 or 4"),
        (["--tile", "8"], "tile must be from 32"),
        (["--model", "4x-Nothing"], "no upscaler named '4x-Nothing'"),
        (["--model", "2x-Mine"], "is a pickle file"),
    ]
    for extra, needle in cases:
        result = run_main("upscale", str(source), "--out", str(tmp_path / "o.png"), *extra, env_home=home)
        assert result.returncode == 2 and needle in result.stderr, (extra, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    missing = run_main("upscale", str(tmp_path / "none.png"), "--out", str(tmp_path / "o.png"), env_home=home)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    trusted = run_main("upscale", str(source), "--model", "2x-Mine", "--trust-pickle", "--scale", "2",
                       "--out", str(tmp_path / "o.png"), env_home=home)
    assert trusted.returncode == 0, trusted.stderr
    assert Image.open(tmp_path / "o.png").size == (80, 60)


def test_generate_hires_latent_writes_a1111_hires_fields_that_read_back(tmp_path, tiny_sd15):
    out = tmp_path / "hires.png"
    result = run_main("generate", "--model", str(tiny_sd15), "--prompt", "a fox", "--width", "64", "--height", "64",
                      "--steps", "4", "--seed", "3", "--hires", "2:0.5:Latent", "--out", str(out), env_home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "step 7/7" in result.stderr  # one bar: 4 first-pass steps, the upscale, int(4 * 0.5) = 2 refine steps
    with Image.open(out) as image:
        assert image.size == (128, 128)
        text = image.text["parameters"]
    assert "Size: 64x64" in text and "Denoising strength: 0.5, Hires upscale: 2, Hires upscaler: Latent" in text
    params = read_metadata(out).to_params()
    assert (params.hires_scale, params.hires_strength, params.hires_upscaler) == (2.0, 0.5, "Latent")
    assert (params.width, params.mode) == (64, "txt2img")


def test_generate_bad_hires_text_is_refused_before_the_model_loads(tmp_path, tiny_sd15, home_upscalers):
    home = tmp_path / "atelier-home"
    for bad, needle in (("2:1.5", "hires strength"), ("9", "hires scale"), ("2:abc", "--hires '2:abc'"),
                        ("2:0.5:4x-None", "no upscaler named '4x-None' for --hires")):
        failed = run_main("generate", "--model", str(tiny_sd15), "--prompt", "x", "--width", "64", "--height", "64",
                          "--steps", "2", "--hires", bad, "--out", str(tmp_path / "o.png"), env_home=home)
        assert failed.returncode == 2 and needle in failed.stderr, (bad, failed.stderr)
        assert "Loading" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1

"""Hires fix metadata names its upscaler and records the weights' hash, in the app (the lane) and headless."""

from __future__ import annotations

import hashlib
import json

from PIL import Image

from desktop.core.messages import GenerateJob, ImageResult
from desktop.core.params import GenerationParams
from main import main
from test_lane import Recorder, wait_terminal, worker  # noqa: F401 - the lane fixture

UPSCALER = "realesr-animevideov3"
PARAMS = GenerationParams(prompt="a fox", width=64, height=64, steps=2, seed=4, hires_scale=1.5, hires_strength=0.5,
                          hires_upscaler=UPSCALER)


def _sha256(folder) -> str:
    return hashlib.sha256((folder / f"{UPSCALER}.safetensors").read_bytes()).hexdigest()


def _check(path, sha256: str) -> None:
    image = Image.open(path)
    assert image.size == (96, 96)
    text = image.text["parameters"]
    assert f"Hires upscaler: {UPSCALER}, Hires upscaler hash: {sha256[:10]}" in text
    record = json.loads(image.text["atelier"])
    assert record["params"]["hires_upscaler"] == UPSCALER
    assert (record["extra"]["hires_upscaler"], record["extra"]["hires_upscaler_hash"]) == (UPSCALER, sha256)


def test_the_apps_hires_fix_records_the_upscalers_name_and_hash(qtbot, worker, tiny_sd15,  # noqa: F811
                                                                builtin_upscalers):
    from tests.conftest import UPSCALER_CACHE

    recorder = Recorder(worker)
    job = GenerateJob(PARAMS, str(tiny_sd15), upscale_dirs=(str(builtin_upscalers),), cache_dir=str(UPSCALER_CACHE))
    worker.submit(job)
    wait_terminal(qtbot, recorder, job.job_id)
    [result] = [m for m in recorder.of(job.job_id) if isinstance(m, ImageResult)]
    _check(result.path, _sha256(builtin_upscalers / "upscale_models"))
    latent = GenerateJob(PARAMS.replace(hires_upscaler="Latent"), str(tiny_sd15))  # no file, so no hash
    worker.submit(latent)
    wait_terminal(qtbot, recorder, latent.job_id)
    [plain] = [m for m in recorder.of(latent.job_id) if isinstance(m, ImageResult)]
    text = Image.open(plain.path).text["parameters"]
    assert "Hires upscaler: Latent" in text and "Hires upscaler hash" not in text


def test_generate_hires_records_the_upscalers_name_and_hash(home_upscalers, tiny_sd15, tmp_path):
    out = tmp_path / "hires.png"
    assert main(["generate", "--model", str(tiny_sd15), "--prompt", "a fox", "--width", "64", "--height", "64",
                 "--steps", "2", "--seed", "4", "--hires", f"1.5:0.5:{UPSCALER}", "--out", str(out)]) == 0
    _check(out, _sha256(home_upscalers))
